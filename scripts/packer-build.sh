#!/usr/bin/env bash
# Runs one Packer build (one -only=SOURCE) so that nothing half-made is ever taken for an artifact:
#   scripts/packer-build.sh OUTPUT_DIR [packer build options...]
# Packer writes into OUTPUT_DIR.partial; only a successful build is renamed to OUTPUT_DIR,
# with packer.log (PACKER_LOG) and SHA256SUMS beside the artifact. A failed build keeps
# only OUTPUT_DIR.failed.log. SIGINT/SIGTERM are passed to Packer, which stops QEMU and
# removes its output; GOLD_BUILD_TIMEOUT (seconds, default 4h) bounds the whole build.
# Builds share the machine: at most GOLD_PARALLEL_BUILDS (default 1) Packer builds run at
# once across every stack and process (flock slots in GOLD_LOCK_DIR), VirtualBox and QEMU/KVM
# builds never run at the same time (they cannot share VT-x), and one Packer cache per user
# means an ISO is downloaded once per machine.
# Stdout is one JSON line: {"artifact": path, "sha256": hex, "bytes": n, "format": "qcow2"|"vmdk"|"raw"}. Packer's own output
# goes to build.log beside packer.log, not to stdout/stderr: @pulumi/command keeps both whole
# in the stack's state. A failure prints the tail of build.log to stderr.
set -euo pipefail

if [ "$#" -lt 1 ]; then
    echo "usage: $0 OUTPUT_DIR [packer build options...]" >&2
    exit 2
fi
out=${1%/}
shift
here=$(cd "$(dirname "$0")/.." && pwd)
partial="$out.partial"
log="$out.packer.log"
ui="$out.build.log"

rm -rf "$partial" "$out.failed.log" "$ui"
mkdir -p "$(dirname "$out")"

cache=${XDG_CACHE_HOME:-$HOME/.cache}/gold-images
export PACKER_CACHE_DIR="${PACKER_CACHE_DIR:-$cache/packer}"
locks=${GOLD_LOCK_DIR:-$cache/locks}
mkdir -p "$locks" "$PACKER_CACHE_DIR"

# A slot: the first free one of N lock files, held (by this shell and Packer) until exit.
slots=${GOLD_PARALLEL_BUILDS:-1}
while :; do
    for i in $(seq 1 "$slots"); do
        exec {slot}>"$locks/slot-$i"
        if flock -n "$slot"; then break 2; fi
        exec {slot}>&-
    done
    sleep 2
done

# The hypervisor: a build holds its own kind shared; it may start only while no build of
# the other kind holds theirs (checked under a gate, so the two kinds cannot start together).
case " $* " in *virtualbox-iso.*) kind=virtualbox other=qemu ;; *) kind=qemu other=virtualbox ;; esac
exec {gate}>"$locks/hypervisor.gate" {mine}>"$locks/hypervisor-$kind" {theirs}>"$locks/hypervisor-$other"
flock "$gate"
until flock -n "$theirs"; do
    flock -u "$gate"
    sleep 2
    flock "$gate"
done
flock -u "$theirs"
flock -s "$mine"
flock -u "$gate"

cd "$here"
PACKER_LOG=1 PACKER_LOG_PATH="$log" timeout --signal=INT --kill-after=120 "${GOLD_BUILD_TIMEOUT:-14400}" \
    packer build -color=false -var "output_dir=$partial" "$@" templates >"$ui" 2>&1 &
pid=$!
stop() {
    kill -INT "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -rf "$partial" "$ui"
    mv -f "$log" "$out.failed.log" 2>/dev/null || true
    exit 130
}
trap stop INT TERM HUP

status=0
wait "$pid" || status=$?
trap - INT TERM HUP
if [ "$status" -ne 0 ] || [ ! -d "$partial" ]; then
    rm -rf "$partial"
    tail -n 40 "$ui" >&2 || true
    cat "$ui" >>"$log" 2>/dev/null || true
    rm -f "$ui"
    mv -f "$log" "$out.failed.log" 2>/dev/null || true
    echo "packer build failed (exit $status); log: $out.failed.log" >&2
    [ "$status" -ne 0 ] || status=1
    exit "$status"
fi

mv "$log" "$partial/packer.log"
mv "$ui" "$partial/build.log"
(cd "$partial" && find . -maxdepth 1 -type f ! -name packer.log ! -name build.log -printf '%f\n' | sort | xargs -r sha256sum > "../.$$.sums" && mv "../.$$.sums" SHA256SUMS)
rm -rf "$out"
mv "$partial" "$out"

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
