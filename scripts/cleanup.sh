#!/bin/sh
# Last clean-up of the image, run by Packer's shell provisioner after Ansible (as root): package
# caches, temporary files, shell histories, Ansible's leftovers and the build key if the
# cleanup role left it. Packer keeps its SSH connection open, so removing the key is safe.
#
# The build key is recognized by its comment (gold-build-key, see scripts/gen-keys.sh) or by
# its content in $GOLD_BUILD_PUBKEY.
set -eu

echo "cleanup.sh: package caches"
if command -v dnf >/dev/null 2>&1; then
    dnf -q clean all || true
elif command -v yum >/dev/null 2>&1; then
    yum -q clean all || true
fi
rm -rf /var/cache/dnf /var/cache/yum
if command -v apt-get >/dev/null 2>&1; then
    apt-get clean
    # GOLD_STAGE=base: the base disk keeps its lists for its variants (their cleanup removes them).
    if [ "${GOLD_STAGE:-full}" != base ]; then
        find /var/lib/apt/lists -mindepth 1 -maxdepth 1 -type f ! -name lock -delete 2>/dev/null || true
    fi
fi

echo "cleanup.sh: temporary files and sessions"
# This script runs from /tmp: unlinking it while it runs is harmless.
find /tmp /var/tmp -mindepth 1 -maxdepth 1 -exec rm -rf -- {} + 2>/dev/null || true
rm -rf /root/.ansible /root/.cache
rm -f /root/.bash_history /root/.lesshst /root/.viminfo /root/.python_history
for home in /home/*; do
    [ -d "$home" ] || continue
    rm -f "$home/.bash_history" "$home/.lesshst" "$home/.viminfo" "$home/.python_history"
done

echo "cleanup.sh: build key"
auth=/root/.ssh/authorized_keys
# GOLD_STAGE=base: the base disk keeps the key its variants log in with (they remove it).
if [ "${GOLD_STAGE:-full}" != base ] && [ -f "$auth" ]; then
    tmp=$(mktemp "$auth.XXXXXX")
    if [ -n "${GOLD_BUILD_PUBKEY:-}" ]; then
        # Compare the key type and body only (fields 1-2), not the comment.
        body=$(printf '%s\n' "$GOLD_BUILD_PUBKEY" | awk '{ print $1 " " $2 }')
        awk -v body="$body" '($1 " " $2) != body && $NF != "gold-build-key"' "$auth" >"$tmp"
    else
        awk '$NF != "gold-build-key"' "$auth" >"$tmp"
    fi
    if [ -s "$tmp" ]; then
        cat "$tmp" >"$auth"
        rm -f -- "$tmp"
    else
        rm -f -- "$tmp" "$auth"
    fi
fi

sync
echo "cleanup.sh: done"
