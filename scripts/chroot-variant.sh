#!/usr/bin/env bash
# A provider's variant of a base disk without booting it: the same play (ansible/site.yml,
# stage "variant") and the same cleanup.sh and zero.sh, run natively in a chroot of a copy of
# the disk instead of in an emulated guest.
#   scripts/chroot-variant.sh build OUTPUT_DIR   (run by Packer: -only=null.variant, see
#                                                 templates/chroot.pkr.hcl, inside packer-build.sh)
#   scripts/chroot-variant.sh reap OUTPUT_DIR    (what a killed build left: processes, mounts,
#                                                 loop device; a no-op when there is none)
# build reads (from Packer's environment_vars): GOLD_SOURCE_DISK, GOLD_SOURCE_CHECKSUM
# ("sha256:<hex>" or "none"), GOLD_ARTIFACT (file name without extension), GOLD_ANSIBLE_ARGS (a
# JSON list of ansible-playbook arguments: the extra vars the ansible provisioner gets),
# GOLD_STAGE. It writes OUTPUT_DIR/GOLD_ARTIFACT.qcow2, nothing else.
#
# How: the disk is copied to a sparse raw file in OUTPUT_DIR, attached to a loop device with its
# partitions, the partition holding /etc/fstab mounted, then the image's own fstab entries
# (/boot, /boot/efi, ...) from the partitions of this disk only; /proc, /sys (read-only) and
# a /dev of its own (this disk's nodes and by-uuid links, /dev/pts from the host); /run is a fresh tmpfs (no host sockets: systemctl and the
# package scripts see no running systemd, so they enable and never start). Ansible's
# community.general.chroot connection runs the play with the image's own python, with
# SYSTEMD_OFFLINE=1 and a policy-rc.d that refuses service starts (removed afterwards). The
# host's resolv.conf is lent for the run; the image's own comes back unless the play changed or
# removed it. zero.sh trims and fills only the image's file systems. The raw file becomes a
# qcow2 after everything is unmounted and detached.
#
# Every exit path releases what was taken: a trap on exit and on signals; a kill -9 leaves a
# record (GOLD_CHROOT_RUN/<key of OUTPUT_DIR>) that the next build or reap of the same
# OUTPUT_DIR acts on first (kills what still runs inside the chroot, unmounts, detaches the
# loop device found by its backing file even when that file was deleted). packer-build.sh runs
# reap after every build that did not succeed. Mounts live under GOLD_CHROOT_RUN (default
# /run/gold-chroot), never under OUTPUT_DIR: removing a stage's files cannot descend into a
# bound /dev.
#
# Needs root (mount, losetup, chroot, unshare), util-linux, iproute2, qemu-img, ansible (community.general).
set -euo pipefail

die() {
    echo "chroot-variant: error: $*" >&2
    exit 1
}
say() { echo "chroot-variant: $*" >&2; }

if [ "$#" -ne 2 ] || { [ "$1" != build ] && [ "$1" != reap ]; }; then
    echo "usage: $0 build|reap OUTPUT_DIR" >&2
    exit 2
fi
action=$1
out=$(realpath -m -- "${2%/}")
[ "$out" != / ] || die "OUTPUT_DIR must not be /"
here=$(cd "$(dirname "$0")/.." && pwd)
key=$(printf '%s' "$out" | sha256sum | cut -c1-16)
state="${GOLD_CHROOT_RUN:-/run/gold-chroot}/$key"
root="$state/root"

# --- Release (reap) ------------------------------------------------------------------------
# Loop devices whose backing file is FILE (also once it was deleted).
loops_of() {
    losetup --list --noheadings --raw -O NAME,BACK-FILE 2>/dev/null |
        awk -v f="$1" '{ name = $1; $1 = ""; sub(/^ /, ""); if ($0 == f || $0 == f " (deleted)") print name }'
}

# What is mounted at or below the chroot, deepest first.
mounts_under() { findmnt -rn -o TARGET | awk -v r="$root" '$0 == r || index($0, r "/") == 1' | sort -r; }

release() {
    [ -d "$state" ] || return 0
    local pid link n=0 backing
    # Anything still running inside the chroot (a killed build's Ansible modules, a package script).
    for link in /proc/[0-9]*/root; do
        pid=${link#/proc/}
        pid=${pid%/root}
        [ "$pid" != $$ ] || continue
        case "$(readlink "$link" 2>/dev/null)" in
        "$root" | "$root"/*) if kill -KILL "$pid" 2>/dev/null; then n=$((n + 1)); fi ;;
        esac
    done
    [ "$n" -eq 0 ] || sleep 1
    # Lazily if a mount is still busy (it is gone from the namespace at once).
    mounts_under | while IFS= read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" || true
    done
    if [ -n "$(mounts_under)" ]; then
        die "could not unmount everything under $root (see findmnt)"
    fi
    backing=$(cat "$state/backing" 2>/dev/null || true)
    if [ -n "$backing" ]; then
        for dev in $(loops_of "$backing"); do
            losetup -d "$dev" || die "could not detach $dev ($backing)"
        done
    fi
    # Nothing is mounted below it any more (checked above): an ordinary removal.
    rm -rf --one-file-system -- "$state"
}

if [ "$action" = reap ]; then
    [ ! -d "$state" ] || echo "chroot-variant: releasing what a stopped build of $out left" >&2
    release
    exit 0
fi

# --- Build -----------------------------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || die "a chroot variant needs root (mount, losetup, chroot); run as root or set variantMode: boot"
: "${GOLD_SOURCE_DISK:?}" "${GOLD_ARTIFACT:?}" "${GOLD_ANSIBLE_ARGS:?}"
case "$GOLD_ARTIFACT" in */* | .* | "") die "GOLD_ARTIFACT must be a file name: $GOLD_ARTIFACT" ;; esac
[ -f "$GOLD_SOURCE_DISK" ] || die "no source disk at $GOLD_SOURCE_DISK"

if [ -d "$state" ]; then
    echo "chroot-variant: releasing what an earlier, stopped build of $out left" >&2
    release
fi
mkdir -p "$state" "$out"
raw="$out/$GOLD_ARTIFACT.raw"
printf '%s\n' "$raw" >"$state/backing"
lent_resolv=0 own_policy=0
mounted_fs=()

finish_chroot() {
    local status=$?
    trap - EXIT INT TERM HUP
    if [ "$lent_resolv" = 1 ]; then give_back_resolv || true; fi
    if [ "$own_policy" = 1 ]; then rm -f -- "$policy" || true; fi
    release || status=1
    exit "$status"
}
trap finish_chroot EXIT
trap 'exit 130' INT TERM HUP

case "${GOLD_SOURCE_CHECKSUM:-none}" in
none) ;;
sha256:*)
    say "checking the base disk's sha256"
    [ "$(sha256sum <"$GOLD_SOURCE_DISK" | cut -d' ' -f1)" = "${GOLD_SOURCE_CHECKSUM#sha256:}" ] ||
        die "the base disk $GOLD_SOURCE_DISK does not match $GOLD_SOURCE_CHECKSUM"
    ;;
*) die "GOLD_SOURCE_CHECKSUM must be sha256:<hex> or none: $GOLD_SOURCE_CHECKSUM" ;;
esac

say "copying the base disk to a raw file"
qemu-img convert -O raw -- "$GOLD_SOURCE_DISK" "$raw"
loop=$(losetup --find --show --partscan -- "$raw")
# Some kernels (containers, microVMs) scan the table but make no partition nodes: ask again.
[ -e "${loop}p1" ] || partx -a -- "$loop" 2>/dev/null || true
parts=()
for _ in 1 2 3 4 5 6 7 8 9 10; do
    mapfile -t parts < <(lsblk -lnpo NAME,TYPE -- "$loop" | awk '$2 == "part" { print $1 }')
    [ "${#parts[@]}" -eq 0 ] || [ ! -e "${parts[0]}" ] || break
    sleep 0.5
done
[ "${#parts[@]}" -gt 0 ] || die "no partitions on the base disk ($loop)"
say "attached as $loop (${#parts[@]} partitions)"

fstype() { blkid -p -o value -s TYPE -- "$1" 2>/dev/null || true; }
for p in "${parts[@]}"; do
    [ "$(fstype "$p")" != LVM2_member ] || die "the base disk uses LVM ($p): chroot variants read plain partitions; set variantMode: boot"
done

# The root file system: the partition holding etc/fstab.
mkdir -p "$root"
rootdev=
for p in "${parts[@]}"; do
    case "$(fstype "$p")" in "" | swap | vfat) continue ;; esac
    mount -o ro -- "$p" "$root" || continue
    if [ -f "$root/etc/fstab" ] && [ -d "$root/usr" ]; then rootdev=$p; fi
    umount -- "$root"
    [ -z "$rootdev" ] || break
done
[ -n "$rootdev" ] || die "no partition of the base disk holds a root file system (etc/fstab)"
mount -- "$rootdev" "$root"
mount --make-private -- "$root"
mounted_fs+=(/)

# A path of the image, which must stay inside it: a symlink in the image (an absolute one, or
# "..") would otherwise make a mount or a write land on the build host.
inside() {
    local real
    real=$(realpath -m -- "$root$1")
    case "$real" in "$root" | "$root"/*) ;; *) die "the image's $1 leads outside it ($real): refused" ;; esac
    printf '%s\n' "$real"
}

# One of this disk's partitions by an fstab source (UUID=, LABEL=, PARTUUID=, PARTLABEL=, /dev/xdaN):
# never blkid's search of the whole host.
this_disk() {
    local spec=$1 p tag want
    case "$spec" in
    UUID=* | LABEL=* | PARTUUID=* | PARTLABEL=*)
        tag=${spec%%=*} want=${spec#*=}
        want=${want#\"} want=${want%\"}
        for p in "${parts[@]}"; do
            [ "$(blkid -p -o value -s "$tag" -- "$p" 2>/dev/null || true)" != "$want" ] || { echo "$p"; return; }
        done
        ;;
    /dev/[shv]d[a-z][0-9]* | /dev/xvd[a-z][0-9]* | /dev/nvme[0-9]*n[0-9]*p[0-9]*)
        p="${loop}p$(printf '%s' "$spec" | sed 's/.*[^0-9]\([0-9][0-9]*\)$/\1/')"
        [ ! -e "$p" ] || echo "$p"
        ;;
    esac
}

# The image's other file systems, shallowest first.
while read -r spec mnt fs opts _; do
    case "$spec" in "" | \#*) continue ;; esac
    case "$mnt" in / | none | swap | "") continue ;; /*) ;; *) die "fstab names a mount point that is not absolute: $mnt" ;; esac
    case "$fs" in swap | tmpfs | proc | sysfs | devpts | nfs* | cifs | none) continue ;; esac
    case ",$opts," in *,noauto,* | *,bind,*) continue ;; esac
    dev=$(this_disk "$spec")
    [ -n "$dev" ] || die "fstab names $spec for $mnt, which is not on the base disk"
    echo "$mnt $dev"
done <"$root/etc/fstab" | awk '{ print gsub("/", "/", $1), $0 }' | sort -n | while read -r _ mnt dev; do
    target=$(inside "$mnt")
    mkdir -p -- "$target"
    # A kernel without FAT (some microVM hosts) cannot mount the EFI system partition. A play
    # leaves the ESP alone (the base stage installed the bootloader in a booted guest): it stays
    # unmounted, and its mount point must still be empty afterwards (checked below), so nothing
    # meant for the ESP lands in the root file system unseen.
    if [ "$(fstype "$dev")" = vfat ] && ! grep -qw vfat /proc/filesystems && ! modprobe -q vfat 2>/dev/null; then
        [ -z "$(ls -A -- "$target")" ] || die "$mnt is not empty in the root file system and this kernel cannot mount its FAT partition"
        say "this kernel has no FAT: $mnt ($dev) stays unmounted; the play must not write there"
        echo "$mnt" >>"$state/unmounted"
        continue
    fi
    mount -- "$dev" "$target"
    echo "$mnt"
done >"$state/mounted"
mapfile -t -O 1 mounted_fs <"$state/mounted"

target=$(inside /proc)
mount -t proc proc "$target"
target=$(inside /sys)
mount -t sysfs -o ro sysfs "$target"
# A /dev of its own: the basic nodes, this disk's nodes and the udev links tools look for
# (grub-mkconfig writes root=UUID=... only when /dev/disk/by-uuid/<uuid> exists, else the
# device's name: /dev/loopNpM, which no machine made from the image has). None of the host's.
dev=$(inside /dev)
mount -t tmpfs -o mode=0755,nosuid,size=1m tmpfs "$dev"
cp -a /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty "$loop" "${parts[@]}" "$dev/"
mkdir -p "$dev/pts" "$dev/shm" "$dev/disk/by-uuid" "$dev/disk/by-partuuid" "$dev/disk/by-label"
mount --bind /dev/pts "$dev/pts"
ln -s pts/ptmx "$dev/ptmx"
ln -s /proc/self/fd "$dev/fd"
ln -s /proc/self/fd/0 "$dev/stdin"
ln -s /proc/self/fd/1 "$dev/stdout"
ln -s /proc/self/fd/2 "$dev/stderr"
for p in "${parts[@]}"; do
    for tag in UUID:by-uuid PARTUUID:by-partuuid LABEL:by-label; do
        value=$(blkid -p -o value -s "${tag%%:*}" -- "$p" 2>/dev/null || true)
        case "$value" in "" | */* | .*) continue ;; esac
        ln -sfn "../../$(basename "$p")" "$dev/disk/${tag#*:}/$value"
    done
done
target=$(inside /run)
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$target"

# Name resolution: the host's, lent (the play runs in a network namespace where no resolver is
# reachable, but a package script that reads resolv.conf finds one).
resolv="$(inside /etc)/resolv.conf"
lent=$(cat /etc/resolv.conf 2>/dev/null || true)
give_back_resolv() {
    if [ -f "$resolv" ] && [ ! -L "$resolv" ] && [ "$(cat "$resolv")" = "$lent" ]; then
        rm -f -- "$resolv"
        if [ -e "$state/resolv.conf" ] || [ -L "$state/resolv.conf" ]; then mv -- "$state/resolv.conf" "$resolv"; fi
    fi
    # Changed or removed by the play: the play's decision stands.
    rm -f -- "$state/resolv.conf"
}
if [ -e "$resolv" ] || [ -L "$resolv" ]; then mv -- "$resolv" "$state/resolv.conf"; fi
printf '%s\n' "$lent" >"$resolv"
lent_resolv=1

policy="$(inside /usr/sbin)/policy-rc.d"
if [ ! -e "$policy" ] && [ ! -L "$policy" ]; then
    printf '#!/bin/sh\n# gold images: no service starts in a chroot build (removed after it)\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    own_policy=1
fi

mapfile -d '' -t play_args < <(python3 -c 'import json, sys
args = json.loads(sys.argv[1])
assert isinstance(args, list) and all(isinstance(a, str) for a in args), "GOLD_ANSIBLE_ARGS must be a JSON list of strings"
sys.stdout.write("".join(a + "\0" for a in args))' "$GOLD_ANSIBLE_ARGS")

# The play's network: a namespace of its own with only loopback, where 127.0.0.1:3128 leads to
# the build proxy's Unix socket (GOLD_BUILD_PROXY_SOCKET, set by scripts/isolated-build.sh);
# without that socket the play reaches nothing at all. The chroot's /proc is mounted anew in the
# play's process namespace: no host process, and none of their network namespaces, is in sight.
[ -z "${GOLD_BUILD_PROXY_SOCKET:-}" ] || play_args+=(--extra-vars '{"gold_build_proxy": "http://127.0.0.1:3128", "build_network_own_namespace": true}')

say "provisioning with Ansible (chroot connection, network namespace)"
SYSTEMD_OFFLINE=1 ANSIBLE_CONFIG="$here/ansible/ansible.cfg" ANSIBLE_HOST_KEY_CHECKING=False \
    "$here/scripts/isolated-build.sh" --netns --proc "$(inside /proc)" ansible-playbook -i "$root," -c community.general.chroot "${play_args[@]}" "$here/ansible/site.yml"

say "provisioning with shell script: scripts/cleanup.sh"
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin GOLD_STAGE="${GOLD_STAGE:-variant}" \
    GOLD_BUILD_PUBKEY="${GOLD_BUILD_PUBKEY:-}" /bin/sh -s <"$here/scripts/cleanup.sh"

if [ -f "$state/unmounted" ]; then
    while IFS= read -r mnt; do
        [ -z "$(ls -A -- "$(inside "$mnt")")" ] || die "the play wrote into $mnt, which this kernel could not mount (FAT): those files would hide under the partition at boot; build this variant with variantMode: boot"
    done <"$state/unmounted"
fi

if [ "$own_policy" = 1 ]; then
    rm -f -- "$policy"
    own_policy=0
fi
give_back_resolv
lent_resolv=0

# SELinux (EL): files written in a chroot on a host without the image's policy carry no label,
# and a booted system would refuse them (or relabel and reboot at its first boot, which clouds
# do not wait for). The image's own setfiles labels every file system of the image now.
selinux_type=
if [ -f "$root/etc/selinux/config" ] && ! grep -qx 'SELINUX=disabled' "$root/etc/selinux/config"; then
    selinux_type=$(sed -n 's/^SELINUXTYPE=//p' "$root/etc/selinux/config" | tail -n 1)
fi
if [ -n "$selinux_type" ] && [ -x "$root/usr/sbin/setfiles" ]; then
    say "labelling the image's files for SELinux ($selinux_type)"
    chroot "$root" /usr/sbin/setfiles -F -e /proc -e /sys -e /dev -e /run \
        "/etc/selinux/$selinux_type/contexts/files/file_contexts" "${mounted_fs[@]}"
fi

# What only this build host had must not be in the image: a boot configuration naming the loop
# device would not find its root on any machine.
for f in boot/grub/grub.cfg boot/grub2/grub.cfg etc/fstab etc/default/grub; do
    if grep -qsF -- "$loop" "$root/$f"; then die "/$f names $loop, this build's loop device: the image would not boot (grub-mkconfig did not see /dev/disk/by-uuid?)"; fi
done

say "provisioning with shell script: scripts/zero.sh"
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin GOLD_ZERO_DIRS="${mounted_fs[*]}" GOLD_ZERO_TRIM_MAKES_HOLES=1 /bin/sh -s <"$here/scripts/zero.sh"

sync
mounts_under | while IFS= read -r m; do umount -- "$m"; done
losetup -d "$loop"

say "writing $GOLD_ARTIFACT.qcow2"
qemu-img convert -O qcow2 -- "$raw" "$out/$GOLD_ARTIFACT.qcow2.tmp"
mv -- "$out/$GOLD_ARTIFACT.qcow2.tmp" "$out/$GOLD_ARTIFACT.qcow2"
rm -f -- "$raw"
say "done"
