#!/bin/sh
# Shrinks the image: discards unused blocks, then fills the free space with zeros and frees it
# again, so that the final "qemu-img convert" (and QEMU's detect-zeroes=unmap, discard=unmap)
# leave holes instead of stale data.
#
#   zero.sh [DIR...]   default: / and /boot when it is a separate file system
#                      ($GOLD_ZERO_DIRS, space separated, also sets the directories)
#
# Filling a file system to the last block makes dd fail with "No space left on device": that
# is the expected end, not an error. $GOLD_ZERO_MAX_MB caps the fill file and
# GOLD_ZERO_NO_TRIM=1 skips fstrim (tests: fstrim works on the whole host file system).
# GOLD_ZERO_TRIM_MAKES_HOLES=1 (a chroot build: a loop device over a sparse file, where every
# discard punches a hole) skips the fill of a directory whose trim succeeded: it would only
# write gigabytes of zeros that the conversion reads back as holes.
set -eu

# Only the default (this system's / and /boot) trims every mount: named directories (a chroot's
# file systems, tests) are trimmed one by one.
all=0
if [ "$#" -gt 0 ]; then
    dirs=$*
elif [ -n "${GOLD_ZERO_DIRS:-}" ]; then
    dirs=$GOLD_ZERO_DIRS
else
    all=1
    dirs=/
    if command -v mountpoint >/dev/null 2>&1 && mountpoint -q /boot; then
        dirs="/ /boot"
    fi
fi

fill=
cleanup() {
    if [ -n "$fill" ]; then
        rm -f -- "$fill"
    fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# Discard first: cheap, and enough when the disk honours discards.
trimmed=" "
if [ "${GOLD_ZERO_NO_TRIM:-0}" != 1 ] && command -v fstrim >/dev/null 2>&1; then
    if [ "$all" = 1 ]; then
        fstrim -av || echo "zero.sh: fstrim failed (ignored)" >&2
    else
        for dir in $dirs; do
            if fstrim -v "$dir"; then
                trimmed="$trimmed $dir "
            else
                echo "zero.sh: fstrim $dir failed (ignored)" >&2
            fi
        done
    fi
fi

count=
if [ -n "${GOLD_ZERO_MAX_MB:-}" ]; then
    count="count=$GOLD_ZERO_MAX_MB"
fi

for dir in $dirs; do
    if [ ! -d "$dir" ]; then
        echo "zero.sh: $dir is not a directory" >&2
        exit 2
    fi
    case "${GOLD_ZERO_TRIM_MAKES_HOLES:-0}:$trimmed" in
    1:*" $dir "*)
        echo "zero.sh: $dir trimmed on a disk whose discards make holes: no fill needed"
        continue
        ;;
    esac
    fill=${dir%/}/.gold-zero-fill.$$
    echo "zero.sh: zero-filling the free space of $dir"
    # dd's message is kept in memory: there is no room left for a file on a full disk.
    # shellcheck disable=SC2086 # $count is empty or one word
    if err=$(LC_ALL=C dd if=/dev/zero of="$fill" bs=1M $count conv=fsync 2>&1); then
        :
    else
        case $err in
            *"No space left on device"*) echo "zero.sh: $dir is full, freeing it again" ;;
            *)
                printf '%s\n' "$err" >&2
                echo "zero.sh: dd failed on $dir" >&2
                exit 1
                ;;
        esac
    fi
    sync
    rm -f -- "$fill"
    fill=
    sync
done
echo "zero.sh: done"
