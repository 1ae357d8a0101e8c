#!/usr/bin/env bash
# Runs one Packer build (one -only=SOURCE) so that nothing half-made is ever taken for an artifact:
#   scripts/packer-build.sh OUTPUT_DIR [packer build options...]
# Packer writes into OUTPUT_DIR.partial; a successful build becomes OUTPUT_DIR.built, gets
# SHA256SUMS, and is renamed to OUTPUT_DIR, with packer.log (PACKER_LOG) and build.log beside
# the artifact. A failed build keeps only OUTPUT_DIR.failed.log. OUTPUT_DIR is taken relative
# to the caller's directory. GOLD_BUILD_TIMEOUT (seconds, default 4h) bounds the whole build.
#
# Signals and retries: SIGINT/SIGTERM are passed to Packer, which stops QEMU and removes its
# output; if it has not stopped after GOLD_STOP_TIMEOUT seconds (default 150), or at a second
# signal, the whole build (timeout, Packer, QEMU: one process group) is killed. A build killed
# with its wrapper (kill -9 of `pulumi up`) leaves them running: a retry of the same
# OUTPUT_DIR stops that earlier build first (OUTPUT_DIR.lock, held by every process of a
# build, says whether one lives; OUTPUT_DIR.pid names its process group). A build that Packer
# finished but that was stopped while being checksummed is resumed, not built again.
#
# Builds share the machine: at most GOLD_PARALLEL_BUILDS (default 1) Packer builds run at
# once across every stack and process (flock slots in GOLD_LOCK_DIR), VirtualBox and QEMU/KVM
# builds never run at the same time (they cannot share VT-x), and one Packer cache per user
# means an ISO is downloaded once per machine.
# Stdout is one JSON line: {"artifact": path, "sha256": hex, "bytes": n, "format": "qcow2"|"vmdk"|"raw"}.
# Packer's own output goes to build.log beside packer.log, not to stdout/stderr: @pulumi/command
# keeps both whole in the stack's state. While it builds, stderr gets only its step lines
# ("==> qemu.base: Waiting for SSH...") and each Ansible task that runs for GOLD_SLOW_TASK_SECONDS
# (default 30) or more, as they come: what `pulumi up` shows on the stage's row, a few KB for a
# build of hours. A failure prints the tail of build.log to stderr.
set -euo pipefail

if [ "$#" -lt 1 ]; then
    echo "usage: $0 OUTPUT_DIR [packer build options...]" >&2
    exit 2
fi
if [ -z "${1%/}" ]; then
    echo "packer-build.sh: OUTPUT_DIR must not be empty or /" >&2
    exit 2
fi
out=$(realpath -m -- "${1%/}")
shift
here=$(cd "$(dirname "$0")/.." && pwd)
partial="$out.partial"
built="$out.built"
log="$out.packer.log"
ui="$out.build.log"
pidfile="$out.pid"
stop_timeout=${GOLD_STOP_TIMEOUT:-150}
mkdir -p "$(dirname "$out")"

# --- One build of OUTPUT_DIR at a time ---------------------------------------------------
# The lock's descriptor is inherited by timeout, Packer and QEMU: it stays held while any of
# them lives, even when this wrapper was killed.
exec {dirlock}>"$out.lock"
if ! flock -n "$dirlock"; then
    earlier=$(cat "$pidfile" 2>/dev/null || true)
    echo "packer-build.sh: an earlier build of $out is still running (process group ${earlier:-unknown}): stopping it" >&2
    if [[ "$earlier" =~ ^[0-9]+$ ]]; then
        kill -INT -- "-$earlier" 2>/dev/null || true
        flock -w "$stop_timeout" "$dirlock" || {
            kill -KILL -- "-$earlier" 2>/dev/null || true
            flock -w 30 "$dirlock"
        }
    else
        flock -w "$stop_timeout" "$dirlock"
    fi
fi

# --- Resume a build Packer finished but that was stopped before it was promoted -----------
finish() {
    [ ! -f "$log" ] || mv -f "$log" "$built/packer.log"
    [ ! -f "$ui" ] || mv -f "$ui" "$built/build.log"
    # Written beside the directory as OUTPUT_DIR.sums (the stage's delete removes OUTPUT_DIR.*).
    (cd "$built" && find . -maxdepth 1 -type f ! -name packer.log ! -name build.log ! -name SHA256SUMS -printf '%f\n' |
        LC_ALL=C sort | xargs -r -d '\n' sha256sum >"$out.sums")
    mv "$out.sums" "$built/SHA256SUMS"
    rm -rf "$out"
    mv "$built" "$out"
    rm -f "$pidfile"

    artifact=$(find "$out" -maxdepth 1 -type f ! -name packer.log ! -name build.log ! -name SHA256SUMS -printf '%s %p\n' | sort -n | tail -n 1 | cut -d' ' -f2-)
    artifact=$(realpath "$artifact")
    sum=$(grep -F "  $(basename "$artifact")" "$out/SHA256SUMS" | cut -d' ' -f1)
    # The disk's format, for the conversion: qcow2 (QEMU), vmdk (the VirtualBox and VMware ISO builds).
    case "$artifact" in
    *.qcow2) format=qcow2 ;;
    *.vmdk) format=vmdk ;;
    *) format=raw ;;
    esac
    printf '{"artifact": "%s", "sha256": "%s", "bytes": %s, "format": "%s"}\n' "$artifact" "$sum" "$(stat -c %s "$artifact")" "$format"
}

if [ -d "$built" ]; then
    echo "packer-build.sh: resuming $out: Packer had finished it" >&2
    finish
    exit 0
fi

# A chroot build (scripts/chroot-variant.sh) killed outright may have left its mounts and loop
# device: released before its files go, and again after any build that did not succeed.
reap() { "$here/scripts/chroot-variant.sh" reap "$partial" || true; }
reap
rm -rf "$partial" "$out.failed.log" "$ui"

cache=${XDG_CACHE_HOME:-$HOME/.cache}/gold-images
export PACKER_CACHE_DIR="${PACKER_CACHE_DIR:-$cache/packer}"
mkdir -p "$PACKER_CACHE_DIR"

# A build slot and the hypervisor's lock (scripts/slots.sh), held until this build ends.
# shellcheck source=slots.sh source-path=SCRIPTDIR
. "$here/scripts/slots.sh"
case " $* " in *virtualbox-iso.*) take_slot virtualbox ;; *) take_slot qemu ;; esac

# Packer's step lines as they come; an Ansible task only once it has run for a while (most take
# a second or two: all of them would be hundreds of lines, the slow ones are what a user waits
# on). Each line cut to 200 characters, 200 lines at most.
steps() {
    local line task="" since=0 shown=0 partial="" slow=${GOLD_SLOW_TASK_SECONDS:-30}
    say() {
        [ "$shown" -lt 200 ] || return 0
        shown=$((shown + 1))
        printf '%s\n' "${1:0:200}" >&2
    }
    while :; do
        if IFS= read -r -t 5 line; then
            line="$partial$line" partial=""
            case "$line" in
            "==> "*) say "$line" && task="" ;;
            *": TASK ["*)
                # Without Ansible's row of stars after the last "]", and the indent.
                task=${line%"${line##*]}"}
                task=${task#"${task%%[! ]*}"} since=$SECONDS
                ;;
            esac
        elif [ $? -gt 128 ]; then
            # No whole line within 5 s: what was read so far waits for the rest of its line.
            partial="$partial$line"
        else
            break
        fi
        if [ -n "$task" ] && [ $((SECONDS - since)) -ge "$slow" ]; then
            say "$task (running for $slow s or more)"
            task=""
        fi
    done
}

# The build's network: a QEMU or chroot build reaches only the mirrors its variables name,
# through the allow-list proxy that lives as long as Packer (scripts/isolated-build.sh; its
# refusals go to build.log). The VirtualBox and VMware builds keep their hypervisor's NAT.
proxied=("$here/scripts/isolated-build.sh")
case " $* " in *virtualbox-iso.* | *vmware-iso.*) proxied=() ;; esac

cd "$here"
# There before the follower opens it (it would find no file if it started first).
: >"$ui"
# timeout puts itself and what it starts (the proxy, Packer, its plugins, QEMU) in a process
# group of their own, named by its pid: the group a stop or a later retry signals.
PACKER_LOG=1 PACKER_LOG_PATH="$log" timeout --signal=INT --kill-after=120 "${GOLD_BUILD_TIMEOUT:-14400}" \
    "${proxied[@]}" packer build -color=false -var "output_dir=$partial" "$@" templates >"$ui" 2>&1 &
pid=$!
echo "$pid" >"$pidfile"
# Follows build.log (Packer keeps writing it whatever becomes of this wrapper's stderr) until
# the build's first process is gone and everything it wrote is read.
tail -n +1 -f --pid="$pid" "$ui" 2>/dev/null | steps &
follower=$!

stop() {
    # A second signal, or a build that outlives the grace time, is killed outright.
    local force=0 waited=0
    trap 'force=1' INT TERM HUP
    kill -INT -- "-$pid" 2>/dev/null || kill -INT "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && [ "$force" -eq 0 ] && [ "$waited" -lt "$stop_timeout" ]; do
        sleep 1 &
        wait $! 2>/dev/null || true
        waited=$((waited + 1))
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    wait "$follower" 2>/dev/null || true
    reap
    rm -rf "$partial" "$ui" "$pidfile"
    mv -f "$log" "$out.failed.log" 2>/dev/null || true
    exit 130
}
trap stop INT TERM HUP

status=0
wait "$pid" || status=$?
if [ "$status" -ne 0 ] || [ ! -d "$partial" ]; then
    trap - INT TERM HUP
    wait "$follower" || true
    reap
    rm -rf "$partial" "$pidfile"
    tail -n 40 "$ui" >&2 || true
    cat "$ui" >>"$log" 2>/dev/null || true
    rm -f "$ui"
    mv -f "$log" "$out.failed.log" 2>/dev/null || true
    echo "packer build failed (exit $status); log: $out.failed.log" >&2
    [ "$status" -ne 0 ] || status=1
    exit "$status"
fi

# Packer finished: from here a signal leaves OUTPUT_DIR.built, which a retry resumes.
trap 'exit 130' INT TERM HUP
mv "$partial" "$built"
# Its last lines out before the result (Packer is gone: the follower ends within a second).
wait "$follower" || true
finish
