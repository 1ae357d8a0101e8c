#!/usr/bin/env bash
# Runs a build on its restricted network (components/isolation, README "The build's network"):
#   scripts/isolated-build.sh packer build [options] templates
#     the build's allow-list proxy (scripts/build-proxy.ts serve; its hosts: the mirrors the
#     command's -var-file and -var options name) runs beside the command, which gets
#     PKR_VAR_build_proxy_port (QEMU relays the guest's 10.0.2.100:3128 there:
#     templates/locals.pkr.hcl) and GOLD_BUILD_PROXY_SOCKET (for a chroot build's play).
#   scripts/isolated-build.sh --netns [--proc DIR] COMMAND...
#     the command in a network namespace of its own with loopback only, where 127.0.0.1:3128
#     leads to GOLD_BUILD_PROXY_SOCKET (a socket file crosses network namespaces); without that
#     socket the command reaches nothing at all (scripts/chroot-variant.sh: the play). In a
#     process namespace of its own too, with /proc (and DIR: a chroot's /proc) mounted anew in a
#     mount namespace of its own: no host process is in sight, so none of their network
#     namespaces is a way back (nsenter --net=/proc/PID/ns/net). Needs root.
# The command is this script's child, never Node's: it keeps every descriptor this script
# inherited (packer-build.sh's build lock and slots, held by every process of a build). Node gets
# stdio of its own (it makes its pipes non-blocking, which Ansible refuses on a shared one).
# Exits with the command's status; 2 when the proxy cannot start (a mirror it cannot serve).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
proxy_cli=("$here/node_modules/.bin/ts-node" --transpile-only "$here/scripts/build-proxy.ts")
helper="" watcher=""
# shellcheck disable=SC2317 # called by the EXIT traps
stop_helper() {
    [ -z "$watcher" ] || kill "$watcher" 2>/dev/null || true
    [ -z "$helper" ] || { kill "$helper" 2>/dev/null || true; wait "$helper" 2>/dev/null || true; }
}
trap stop_helper EXIT

# Waits until TEST succeeds while the helper lives, for a minute at most; exits with a message when it does not.
await_helper() {
    local deadline=$((SECONDS + 60))
    until "$@"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "isolated-build: the build proxy was not ready after 60 s" >&2
            exit 1
        fi
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

# Says so when the helper ends while the command runs (the command's network is gone with it: a
# build fails on its next download, and this line says why).
watch_helper() {
    (
        while kill -0 "$helper" 2>/dev/null; do sleep 1; done
        echo "isolated-build: the build proxy ($1) ended while the build ran: the build has no network now" >&2
    ) &
    watcher=$!
}

case "${1:-}" in
--netns)
    shift
    proc=""
    if [ "${1:-}" = --proc ]; then
        proc=${2:?isolated-build: --proc needs a directory}
        shift 2
    fi
    # The process namespace's first process is this script (--in-netns): when it ends, the kernel
    # ends every other process of the namespace; it is killed when unshare ends, even by kill -9.
    exec unshare --net --pid --fork --kill-child --mount-proc -- "$0" --in-netns "$proc" "$@"
    ;;
--in-netns)
    proc=$2
    shift 2
    ip link set lo up
    [ -z "$proc" ] || mount -t proc proc "$proc"
    if [ -n "${GOLD_BUILD_PROXY_SOCKET:-}" ]; then
        "${proxy_cli[@]}" forward --socket "$GOLD_BUILD_PROXY_SOCKET" </dev/null >/dev/null 2> >(cat >&2) &
        helper=$!
        await_helper eval '(exec 3<>/dev/tcp/127.0.0.1/3128) 2>/dev/null'
        watch_helper "forward to $GOLD_BUILD_PROXY_SOCKET"
    fi
    ;;
*)
    # Under /tmp whatever TMPDIR says: a Unix socket's path is 107 bytes at most.
    ready=$(mktemp -d /tmp/gold-proxy-XXXXXX)
    trap 'stop_helper; rm -rf "$ready"' EXIT
    "${proxy_cli[@]}" serve --ready "$ready" -- "$@" </dev/null >/dev/null 2> >(cat >&2) &
    helper=$!
    await_helper test -s "$ready/port"
    watch_helper "serve"
    export PKR_VAR_build_proxy_port GOLD_BUILD_PROXY_SOCKET="$ready/proxy.sock"
    PKR_VAR_build_proxy_port=$(cat "$ready/port")
    ;;
esac
status=0
"$@" || status=$?
exit "$status"
