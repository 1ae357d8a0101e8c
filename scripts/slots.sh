# shellcheck shell=bash
# Sourced by the scripts that run a guest (packer-build.sh, with-slot.sh): at most
# GOLD_PARALLEL_BUILDS (default 1) of them run at once across every stack and process (flock
# slots in GOLD_LOCK_DIR), and VirtualBox and QEMU/KVM guests never run at the same time (they
# cannot share VT-x). The locks are held by the caller's descriptors until it exits; the
# processes it starts inherit them.
#   take_slot KIND     KIND: qemu or virtualbox
take_slot() {
    local kind=$1 other i
    case "$kind" in qemu) other=virtualbox ;; virtualbox) other=qemu ;; *) echo "take_slot: unknown kind $kind" >&2 && return 2 ;; esac
    local cache=${XDG_CACHE_HOME:-$HOME/.cache}/gold-images
    local locks=${GOLD_LOCK_DIR:-$cache/locks}
    mkdir -p "$locks"
    # A slot: the first free one of N lock files, taken in the order of asking (a ticket in the
    # queue): polling alone let a stage that asked later take the slot a stage waiting since the
    # base was freed for, and the chain that waited longest ran alone at the end.
    local slots=${GOLD_PARALLEL_BUILDS:-1} queue=$locks/queue ticket t probe first LC_ALL=C
    mkdir -p "$queue"
    ticket=$queue/$(date +%s%N)-$$-$RANDOM
    # Locked before it is in the queue (made aside, renamed in): an unlocked ticket's waiter is gone.
    exec {gold_ticket}>"$ticket.new"
    flock "$gold_ticket"
    mv "$ticket.new" "$ticket"
    while :; do
        first=1
        for t in "$queue"/*; do
            [ "$t" = "$ticket" ] && break
            case "$t" in *.new) continue ;; esac
            { exec {probe}<"$t"; } 2>/dev/null || continue
            if flock -n "$probe"; then
                rm -f "$t"
                exec {probe}<&-
                continue
            fi
            exec {probe}<&-
            first=0
            break
        done
        if [ "$first" = 1 ]; then
            for i in $(seq 1 "$slots"); do
                exec {gold_slot}>"$locks/slot-$i"
                if flock -n "$gold_slot"; then break 2; fi
                exec {gold_slot}>&-
            done
        fi
        sleep 2
    done
    rm -f "$ticket"
    exec {gold_ticket}>&-
    # The hypervisor: a guest holds its own kind shared; it may start only while no guest of the
    # other kind holds theirs (checked under a gate, so the two kinds cannot start together).
    exec {gold_gate}>"$locks/hypervisor.gate" {gold_mine}>"$locks/hypervisor-$kind" {gold_theirs}>"$locks/hypervisor-$other"
    flock "$gold_gate"
    until flock -n "$gold_theirs"; do
        flock -u "$gold_gate"
        sleep 2
        flock "$gold_gate"
    done
    flock -u "$gold_theirs"
    flock -s "$gold_mine"
    flock -u "$gold_gate"
}
