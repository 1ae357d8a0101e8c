#!/usr/bin/env bash
# One version, one stack: artifacts/<version>/ belongs to the stack that first built into it.
#   scripts/claim-version.sh VERSION_DIR STACK          claims it (or finds it is STACK's): exit 0;
#                                                       another stack's: exit 3, saying whose
#   scripts/claim-version.sh --check VERSION_DIR STACK  exit 0 only if it is STACK's (a delete
#                                                       of another stack's directory does nothing)
# Two stacks with the same version would share every stage directory, and destroying one
# would delete the other's artifacts. The owner is VERSION_DIR/.stack, made with O_EXCL.
set -euo pipefail

check=0
if [ "${1:-}" = "--check" ]; then
    check=1
    shift
fi
if [ "$#" -ne 2 ] || [ -z "$1" ] || [ -z "$2" ]; then
    echo "usage: $0 [--check] VERSION_DIR STACK" >&2
    exit 2
fi
dir=$1 stack=$2
owner="$dir/.stack"
if [ "$check" -eq 1 ]; then
    [ "$(cat "$owner" 2>/dev/null || true)" = "$stack" ]
    exit
fi
mkdir -p "$dir"
# noclobber: the first stack to write it owns it; a racing writer fails and reads the owner.
(set -o noclobber && printf '%s\n' "$stack" >"$owner") 2>/dev/null || true
found=$(cat "$owner")
if [ "$found" != "$stack" ]; then
    echo "claim-version.sh: $dir belongs to stack '$found', not '$stack': two stacks of one version would share (and delete) each other's artifacts. Give this stack its own version, or remove $owner once stack '$found' is destroyed." >&2
    exit 3
fi
