#!/bin/sh
# Creates the build key pair keys/packer and keys/packer.pub (ed25519, no passphrase) that
# Packer uses to reach the image as root; the cleanup role removes it from the image.
#
# usage: npm run keys [-- --force]   (or scripts/gen-keys.sh [--force])
#   npm run keys              create the pair when absent (idempotent)
#   npm run keys -- --force   regenerate it
#
# Works from any directory: the keys go to <repo>/keys (git-ignored), or to $GOLD_KEYS_DIR.
# The private key is never printed.
#
# No site "vagrant" key is made (the seed made one): Vagrant boxes ship Vagrant's public
# insecure key, which Vagrant replaces with a per-machine key at the first "vagrant up"; a site
# key would have to be handed to every box user, which makes it no more secret.
set -eu

# The help is this header: every comment line after the shebang, up to the first line of code.
usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

force=0
for arg in "$@"; do
    case "$arg" in
        --force | -f) force=1 ;;
        --help | -h)
            usage
            exit 0
            ;;
        *)
            echo "gen-keys.sh: unknown argument '$arg' (use --force or --help)" >&2
            exit 2
            ;;
    esac
done

command -v ssh-keygen >/dev/null 2>&1 || {
    echo "gen-keys.sh: ssh-keygen not found (install openssh-client)" >&2
    exit 1
}

script_dir=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
repo_dir=$(dirname -- "$script_dir")
keys_dir=${GOLD_KEYS_DIR:-$repo_dir/keys}
key=$keys_dir/packer
# The comment marks the key: scripts/cleanup.sh removes lines carrying it.
comment=${GOLD_KEY_COMMENT:-gold-build-key}

umask 077
mkdir -p -- "$keys_dir"

if [ "$force" -eq 0 ] && [ -f "$key" ]; then
    chmod 600 -- "$key"
    if [ ! -f "$key.pub" ]; then
        ssh-keygen -y -f "$key" >"$key.pub"
        chmod 644 -- "$key.pub"
        echo "gen-keys.sh: restored $key.pub from $key"
    else
        echo "gen-keys.sh: $key exists (use --force to regenerate)"
    fi
    exit 0
fi

rm -f -- "$key" "$key.pub"
ssh-keygen -q -t ed25519 -N '' -C "$comment" -f "$key" </dev/null >/dev/null
chmod 600 -- "$key"
chmod 644 -- "$key.pub"
echo "gen-keys.sh: created $key and $key.pub"
ssh-keygen -l -f "$key.pub"
