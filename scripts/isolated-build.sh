#!/usr/bin/env bash
# Runs a build on its restricted network (components/isolation, README "The build's network"):
#   scripts/isolated-build.sh packer build [options] templates
#     the build's allow-list proxy (scripts/build-proxy.ts serve; its hosts: the mirrors the
#     command's -var-file and -var options name) runs beside the command, which gets
#     PKR_VAR_build_proxy_port (QEMU relays the guest's 10.0.2.100:3128 there:
#     templates/locals.pkr.hcl) and GOLD_BUILD_PROXY_SOCKET (for a chroot build's play).
#   scripts/isolated-build.sh --netns COMMAND...
#     the command in a network namespace of its own with loopback only, where 127.0.0.1:3128
#     leads to GOLD_BUILD_PROXY_SOCKET (a socket file crosses network namespaces); without that
#     socket the command reaches nothing at all (scripts/chroot-variant.sh: the play). Needs root.
# The command is this script's child, never Node's: it keeps every descriptor this script
# inherited (packer-build.sh's build lock and slots, held by every process of a build). Node gets
# stdio of its own (it makes its pipes non-blocking, which Ansible refuses on a shared one).
# Exits with the command's status; 2 when the proxy cannot start (a mirror it cannot serve).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
proxy_cli=("$here/node_modules/.bin/ts-node" --transpile-only "$here/scripts/build-proxy.ts")
helper=""
trap '[ -z "$helper" ] || { kill "$helper" 2>/dev/null || true; wait "$helper" 2>/dev/null || true; }' EXIT

# Waits until TEST succeeds while the helper lives; exits with a message when it does not.
await_helper() {
    until "$@"; do
        if ! kill -0 "$helper" 2>/dev/null; then
            local status=0
            wait "$helper" || status=$?
            helper=""
            echo "isolated-build: the build proxy did not start (exit $status)" >&2
            exit "$((status == 0 ? 1 : status))"
        fi
        sleep 0.1
    done
}

case "${1:-}" in
--netns)
    shift
    exec unshare --net -- "$0" --in-netns "$@"
    ;;
--in-netns)
    shift
    ip link set lo up
    if [ -n "${GOLD_BUILD_PROXY_SOCKET:-}" ]; then
        "${proxy_cli[@]}" forward --socket "$GOLD_BUILD_PROXY_SOCKET" </dev/null >/dev/null 2> >(cat >&2) &
        helper=$!
        await_helper eval '(exec 3<>/dev/tcp/127.0.0.1/3128) 2>/dev/null'
    fi
    ;;
*)
    ready=$(mktemp -d "${TMPDIR:-/tmp}/gold-proxy-XXXXXX")
    trap '[ -z "$helper" ] || { kill "$helper" 2>/dev/null || true; wait "$helper" 2>/dev/null || true; }; rm -rf "$ready"' EXIT
    "${proxy_cli[@]}" serve --ready "$ready" -- "$@" </dev/null >/dev/null 2> >(cat >&2) &
    helper=$!
    await_helper test -s "$ready/port"
    export PKR_VAR_build_proxy_port GOLD_BUILD_PROXY_SOCKET="$ready/proxy.sock"
    PKR_VAR_build_proxy_port=$(cat "$ready/port")
    ;;
esac
status=0
"$@" || status=$?
exit "$status"
