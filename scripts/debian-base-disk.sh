#!/bin/bash
# Builds a small Debian 12 (bookworm) base disk for the end-to-end test, the way a base stage
# hands a disk on, and caches it:
#   scripts/debian-base-disk.sh OUT_DIR PUBKEY_FILE
#
# OUT_DIR gets debian-12.qcow2 (3 GiB virtual) and vmlinuz and initrd.img (copied out of the
# rootfs, for QEMU direct kernel boot). The disk is the hybrid layout every image keeps, the one
# Ubuntu's and Debian's cloud images use, so BIOS and UEFI machines boot the same disk:
#   GPT  p14  1 MiB   BIOS boot partition (sectors 2048-4095): grub-pc's core.img
#        p15  126 MiB EFI system partition (FAT32, LABEL=ESP), mounted at /boot/efi
#        p1   rest    ext4 LABEL=root, LAST on the disk: cloud-init's growpart grows it in place
# It holds NO bootloader: the Ansible base role installs GRUB for both firmwares (shim and
# GRUB signed for Secure Boot on the ESP) at the base stage.
# Stdout is exactly one JSON line:
#   {"disk": "/abs/debian-12.qcow2", "kernel": "/abs/vmlinuz", "initrd": "/abs/initrd.img",
#    "append": "root=/dev/vda1 ro console=ttyS0,115200", "sha256": "<of the qcow2>",
#    "cached": bool, "virtualSize": bytes, "cacheDir": "/abs/cache/debian-base-<key12>"}
# Everything else goes to stderr.
#
# The system: mmdebstrap --variant=minbase (debootstrap's package set, merged /usr as debootstrap
# makes it) plus the packages in INCLUDE below; systemd-networkd
# (DHCP on en* eth*) and systemd-resolved; root locked (no password), root's authorized_keys =
# PUBKEY_FILE, PermitRootLogin prohibit-password; fresh SSH host keys; empty machine-id; the
# initramfs holds the virtio drivers. Boots as vda, sda or nvme0n1 (fstab uses LABEL= only).
#
# Caches, under ${GOLD_E2E_CACHE:-$HOME/.cache/gold-images/e2e}:
#   debian-rootfs-<key12>.tar.zst   the bootstrapped rootfs (before any per-disk
#                                   configuration), keyed by suite, arch, variant, package list,
#                                   mirror and the code of the rootfs stage, NOT by the pubkey:
#                                   a new key does not redo the bootstrap (~3 min).
#   debian-base-<key12>/            the finished disk, keyed by this script, the pubkey and the
#                                   rootfs key. A hit copies it into OUT_DIR in seconds.
# Both are built in a work directory next to them and renamed into place only when complete;
# per-key locks (flock) make concurrent runs wait for each other instead of building twice.
#
# Environment:
#   GOLD_E2E_CACHE        cache directory (see above)
#   GOLD_DEBIAN_MIRROR    Debian mirror for the bootstrap (default: the one apt uses for bookworm)
#   GOLD_DEBIAN_SECURITY  security mirror written into the image's apt sources (default: the one
#                         apt uses for bookworm-security, if any)
#
# Needs root (mmdebstrap's root mode, chroot) and: mmdebstrap, eatmydata, e2fsprogs (mke2fs), dosfstools (mkfs.fat),
# fdisk (sfdisk), qemu-utils (qemu-img), zstd, tar, util-linux (flock), coreutils.
set -euo pipefail

SUITE=bookworm
ARCH=amd64
VARIANT=minbase
INCLUDE=(
    linux-image-amd64 initramfs-tools kmod udev systemd-sysv dbus systemd-resolved
    openssh-server python3 sudo iproute2 e2fsprogs dosfstools netbase ca-certificates
)
INITRAMFS_MODULES=(virtio_pci virtio_blk virtio_scsi virtio_net)
DISK_BYTES=$((3 * 1024 * 1024 * 1024))
# The layout (sectors of 512 bytes); see the header.
BIOS_START=2048
BIOS_SECTORS=2048
ESP_START=4096
ESP_SECTORS=258048
ROOT_START=262144
IMAGE_HOSTNAME=gold-base
APPEND="root=/dev/vda1 ro console=ttyS0,115200"
NAME=debian-12

log() { echo "debian-base-disk: $*" >&2; }
die() {
    echo "debian-base-disk: error: $*" >&2
    exit 1
}

if [ "$#" -ne 2 ]; then
    echo "usage: $0 OUT_DIR PUBKEY_FILE" >&2
    exit 2
fi
out_arg=$1
pubkey_file=$2

[ "$(id -u)" -eq 0 ] || die "must run as root (mmdebstrap and chroot need it)"
for pair in mmdebstrap:mmdebstrap eatmydata:eatmydata mke2fs:e2fsprogs mkfs.fat:dosfstools sfdisk:fdisk qemu-img:qemu-utils \
    zstd:zstd tar:tar flock:util-linux chroot:coreutils sha256sum:coreutils; do
    command -v "${pair%%:*}" >/dev/null 2>&1 ||
        die "${pair%%:*} is missing: apt-get install ${pair#*:}"
done
[ -r "$pubkey_file" ] || die "cannot read PUBKEY_FILE $pubkey_file"
pubkey=$(grep -E '^(ssh-|ecdsa-|sk-)[^ ]+ [A-Za-z0-9+/=]+' "$pubkey_file" || true)
[ -n "$pubkey" ] || die "$pubkey_file holds no SSH public key"

# The mirror apt uses for SUITE (never a hard-coded host).
apt_uri() {
    # shellcheck disable=SC2016 # apt's own $(FIELD) placeholders
    apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(IDENTIFIER)' 2>/dev/null |
        awk -v s="$1" '$2 == s && $3 == "Packages" { print $1; exit }'
}
mirror=${GOLD_DEBIAN_MIRROR:-$(apt_uri "$SUITE" || true)}
[ -n "$mirror" ] || die "no apt source for $SUITE found; set GOLD_DEBIAN_MIRROR"
security=${GOLD_DEBIAN_SECURITY-$(apt_uri "$SUITE-security" || true)}

cache_root=${GOLD_E2E_CACHE:-$HOME/.cache/gold-images/e2e}
mkdir -p "$cache_root" "$out_arg"
cache_root=$(cd "$cache_root" && pwd -P)
out_dir=$(cd "$out_arg" && pwd -P)

sha() { sha256sum | cut -d' ' -f1; }

# ---- stage 1: the bootstrapped rootfs (cached as zstd tar) --------------------------------

initramfs_has_modules() { # ROOTFS -> 0 when every INITRAMFS_MODULES is built in or in the initrd
    local root=$1 kver listing m
    kver=$(basename "$(dirname "$(ls -d "$root"/lib/modules/*/modules.builtin)")")
    listing=$(chroot "$root" lsinitramfs "/boot/initrd.img-$kver")
    for m in "${INITRAMFS_MODULES[@]}"; do
        if grep -Eq "/$m\.ko(\.[a-z]+)?\$" "$root/lib/modules/$kver/modules.builtin"; then continue; fi
        grep -Eq "/$m\.ko(\.[a-z]+)?\$" <<<"$listing" || return 1
    done
}

build_rootfs() { # DIR
    local root=$1 includes
    includes=$(IFS=,; echo "${INCLUDE[*]}")
    # mmdebstrap rather than debootstrap: apt downloads in parallel, and dpkg runs without fsync
    # (the eatmydata hook; nothing of it stays in the rootfs), about 3 min cold against 6-8.
    # The merged-usr hook makes /usr merged as debootstrap does (usr-is-merged, not usrmerge's perl).
    # Without this script's lock descriptors (7-9; the locks stay held here): mmdebstrap hands apt
    # its first free descriptor, and dash's `cat >&10` cannot use one above 9.
    log "mmdebstrap --variant=$VARIANT $SUITE from $mirror (~3 min)"
    mmdebstrap --variant="$VARIANT" --arch="$ARCH" --include="$includes" \
        --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr --hook-dir=/usr/share/mmdebstrap/hooks/eatmydata \
        "$SUITE" "$root" "$mirror" >&2 7>&- 8>&- 9>&-
    printf '%s\n' "${INITRAMFS_MODULES[@]}" >>"$root/etc/initramfs-tools/modules"
    if initramfs_has_modules "$root"; then
        log "initramfs already holds ${INITRAMFS_MODULES[*]}"
    else
        log "regenerating the initramfs with ${INITRAMFS_MODULES[*]}"
        mount -t proc proc "$root/proc"
        chroot "$root" update-initramfs -u -k all >&2
        umount "$root/proc"
        initramfs_has_modules "$root" || die "the initramfs still lacks ${INITRAMFS_MODULES[*]}"
    fi
    rm -f "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin
}

rootfs_key=$(
    {
        echo "suite=$SUITE arch=$ARCH variant=$VARIANT mirror=$mirror"
        echo "include=${INCLUDE[*]} modules=${INITRAMFS_MODULES[*]}"
        declare -f build_rootfs initramfs_has_modules
    } | sha
)
rootfs_tar="$cache_root/debian-rootfs-${rootfs_key:0:12}.tar.zst"

disk_key=$(
    {
        sha <"$0"
        printf '%s\n' "$pubkey"
        echo "rootfs=$rootfs_key security=$security"
    } | sha
)
disk_cache="$cache_root/debian-base-${disk_key:0:12}"

# Work directories live in the cache (same filesystem, so the final rename is atomic). Each
# holds a lock while its owner lives; stale ones from killed runs are removed below.
unmount_under() { # DIR: lazily unmount whatever a killed mmdebstrap/chroot left mounted
    local m
    awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r |
        while read -r m; do umount -l "$m" || true; done
}
remove_tree() {
    unmount_under "$1"
    rm -rf --one-file-system "$1"
}
for stale in "$cache_root"/.work.*; do
    [ -d "$stale" ] || continue
    [ -n "$(find "$stale" -maxdepth 0 -mmin +2)" ] || continue
    if flock -n "$stale/.lock" true 2>/dev/null; then
        log "removing stale work directory $stale"
        remove_tree "$stale"
    fi
done

work=$(mktemp -d "$cache_root/.work.XXXXXX")
exec 8>"$work/.lock"
flock 8
cleanup() {
    remove_tree "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

json_str() { # a JSON string literal
    local s=${1//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}

emit() { # CACHED
    local sum vsize
    sum=$(cat "$disk_cache/sha256")
    vsize=$(cat "$disk_cache/virtual-size")
    printf '{"disk": %s, "kernel": %s, "initrd": %s, "append": %s, "sha256": "%s", "cached": %s, "virtualSize": %s, "cacheDir": %s}\n' \
        "$(json_str "$out_dir/$NAME.qcow2")" "$(json_str "$out_dir/vmlinuz")" \
        "$(json_str "$out_dir/initrd.img")" "$(json_str "$APPEND")" "$sum" "$1" "$vsize" \
        "$(json_str "$disk_cache")"
}

# Copies the cached disk into OUT_DIR and checks the copy; 1 when the cache entry is corrupt.
deliver() {
    local f want got
    for f in "$NAME.qcow2" vmlinuz initrd.img; do
        rm -f "$out_dir/$f"
        cp --reflink=auto "$disk_cache/$f" "$out_dir/$f"
    done
    want=$(cat "$disk_cache/sha256")
    got=$(sha <"$out_dir/$NAME.qcow2")
    [ "$want" = "$got" ] && return 0
    log "cached disk $disk_cache is corrupt (sha256 $got, want $want): rebuilding"
    return 1
}

exec 9>"$cache_root/.debian-base-${disk_key:0:12}.lock"
flock 9
if [ -f "$disk_cache/sha256" ]; then
    if deliver; then
        log "cache hit: $disk_cache"
        emit true
        exit 0
    fi
    remove_tree "$disk_cache"
fi

# ---- stage 1: restore or build the rootfs ----------------------------------------------------
rootfs="$work/rootfs"
mkdir "$rootfs"
tar_opts=(--numeric-owner --xattrs --xattrs-include='*' --acls)
(
    flock 7
    if [ ! -f "$rootfs_tar" ]; then
        build_rootfs "$rootfs"
        log "caching the rootfs as $rootfs_tar"
        tar -C "$rootfs" "${tar_opts[@]}" -I 'zstd -T0 -3' -cpf "$work/rootfs.tar.zst" .
        mv "$work/rootfs.tar.zst" "$rootfs_tar"
    else
        log "restoring the rootfs from $rootfs_tar"
        tar -C "$rootfs" "${tar_opts[@]}" -I zstd -xpf "$rootfs_tar"
    fi
) 7>"$cache_root/.debian-rootfs-${rootfs_key:0:12}.lock"

# ---- stage 2: per-disk configuration ---------------------------------------------------------
log "configuring the rootfs"
echo "$IMAGE_HOSTNAME" >"$rootfs/etc/hostname"
cat >"$rootfs/etc/hosts" <<EOF
127.0.0.1	localhost
127.0.1.1	$IMAGE_HOSTNAME
::1		localhost ip6-localhost ip6-loopback
ff02::1		ip6-allnodes
ff02::2		ip6-allrouters
EOF
# The ESP by label, as root: every copy of the disk has the same ones, whatever its bus.
printf 'LABEL=root\t/\text4\tdefaults,errors=remount-ro\t0\t1\nLABEL=ESP\t/boot/efi\tvfat\tumask=0077\t0\t1\n' >"$rootfs/etc/fstab"
mkdir -p "$rootfs/boot/efi"

{
    echo "deb $mirror $SUITE main"
    echo "deb $mirror $SUITE-updates main"
    if [ -n "$security" ]; then echo "deb $security $SUITE-security main"; fi
} >"$rootfs/etc/apt/sources.list"

mkdir -p "$rootfs/etc/systemd/network"
cat >"$rootfs/etc/systemd/network/80-dhcp.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=yes
EOF
chroot "$rootfs" systemctl enable systemd-networkd.service systemd-resolved.service >&2
ln -sfn ../run/systemd/resolve/stub-resolv.conf "$rootfs/etc/resolv.conf"

mkdir -p "$rootfs/etc/ssh/sshd_config.d"
cat >"$rootfs/etc/ssh/sshd_config.d/10-gold-base.conf" <<'EOF'
# Root logs in with the build key only; the image clean-up removes the key.
PermitRootLogin prohibit-password
PasswordAuthentication no
EOF
install -d -m 0700 "$rootfs/root/.ssh"
printf '%s\n' "$pubkey" >"$rootfs/root/.ssh/authorized_keys"
chmod 0600 "$rootfs/root/.ssh/authorized_keys"
# Root has no password and is locked.
sed -i -E 's/^root:[^:]*:/root:!*:/' "$rootfs/etc/shadow"
# Host keys of this disk (not the cached rootfs's); the image clean-up removes them later.
rm -f "$rootfs"/etc/ssh/ssh_host_*
chroot "$rootfs" ssh-keygen -A >&2
# No apt lists (~50 MiB): the Ansible base role refreshes the cache first.
find "$rootfs/var/lib/apt/lists" -maxdepth 1 -type f -delete
# Each boot of a copy gets its own machine-id (and DHCP identity).
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"

kver=$(basename "$(dirname "$(ls -d "$rootfs"/lib/modules/*/modules.builtin)")")
if [ ! -f "$rootfs/boot/vmlinuz-$kver" ] || [ ! -f "$rootfs/boot/initrd.img-$kver" ]; then
    die "no kernel/initrd for $kver in the rootfs"
fi

# ---- the disk: partitioned raw file, filesystem laid in without mounting ---------------------
log "making the disk"
build="$work/disk"
mkdir "$build"
raw="$build/disk.raw"
truncate -s "$DISK_BYTES" "$raw"
# Partition numbers as Ubuntu's cloud images have them: root is 1 (growpart's default), the
# two small ones come first on the disk but last in the table.
{
    echo "label: gpt"
    echo "$raw""14 : start=$BIOS_START, size=$BIOS_SECTORS, type=21686148-6449-6E6F-744E-656564454649, name=bios"
    echo "$raw""15 : start=$ESP_START, size=$ESP_SECTORS, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp"
    echo "$raw""1 : start=$ROOT_START, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root"
} | sfdisk --quiet "$raw" >&2
part() { # NUMBER -> "start size" of that partition
    sfdisk -d "$raw" | sed -nE "s|^${raw}$1 *: *start= *([0-9]+), *size= *([0-9]+).*|\1 \2|p"
}
read -r start sectors < <(part 1)
[ "$start" = "$ROOT_START" ] || die "root starts at sector $start, not $ROOT_START"
read -r esp_start esp_sectors < <(part 15)
[ "$esp_start $esp_sectors" = "$ESP_START $ESP_SECTORS" ] || die "the ESP is at $esp_start+$esp_sectors, not $ESP_START+$ESP_SECTORS"
[ "$(part 14)" = "$BIOS_START $BIOS_SECTORS" ] || die "the BIOS boot partition is not at $BIOS_START+$BIOS_SECTORS"
fs="$build/fs.img"
mke2fs -q -F -t ext4 -L root -d "$rootfs" "$fs" "$((sectors / 2))k" >&2
dd if="$fs" of="$raw" bs=1M oflag=seek_bytes seek=$((start * 512)) conv=sparse,notrunc status=none
rm -f "$fs"
# FAT32 (UEFI's own file system; FAT16 would do for 126 MiB, but firmware is only required to read FAT32).
mkfs.fat -F 32 -n ESP -C "$fs" "$((esp_sectors / 2))" >&2
dd if="$fs" of="$raw" bs=1M oflag=seek_bytes seek=$((esp_start * 512)) conv=sparse,notrunc status=none
rm -f "$fs"

staged="$work/$(basename "$disk_cache")"
mkdir "$staged"
qemu-img convert -f raw -O qcow2 "$raw" "$staged/$NAME.qcow2"
rm -f "$raw"
cp "$rootfs/boot/vmlinuz-$kver" "$staged/vmlinuz"
cp "$rootfs/boot/initrd.img-$kver" "$staged/initrd.img"
sha <"$staged/$NAME.qcow2" >"$staged/sha256"
echo "$DISK_BYTES" >"$staged/virtual-size"
echo "$APPEND" >"$staged/append"
echo "$kver" >"$staged/kernel-version"
mv -T "$staged" "$disk_cache"
log "cached the disk as $disk_cache ($(du -h "$disk_cache/$NAME.qcow2" | cut -f1) qcow2)"

deliver || die "the disk copied into $out_dir does not match its checksum"
emit false
