#!/usr/bin/env bash
# Runs a command that boots a QEMU guest (a first-boot test) in a build slot, as Packer builds
# run (scripts/slots.sh): the machine's cores are shared by parallelBuilds guests at most.
#   scripts/with-slot.sh COMMAND [ARGS...]
set -euo pipefail
if [ "$#" -lt 1 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi
# shellcheck source=slots.sh source-path=SCRIPTDIR
. "$(dirname "$0")/slots.sh"
take_slot qemu
exec "$@"
