#!/usr/bin/env bash
# Converts a finished disk image into one artifact format:
#   scripts/convert.sh FORMAT INPUT OUTPUT_DIR NAME [options]
#
# No version goes into the artifact: one conversion serves every version of its recipe (the
# version is in the names the publishers give it: file names, image names, tags, catalogs).
#
#   vhd        NAME.vhd     dynamic VHD
#   vhd-fixed  NAME.vhd     fixed VHD, virtual size rounded up to 1 MiB
#   raw-tar    NAME.tar.gz  disk.raw (rounded up to 1 GiB) in an oldgnu sparse tar, gzip
#   qcow2      NAME.qcow2   compressed qcow2
#   rootfs     NAME.tar.gz  root filesystem (libguestfs tar-out), and a container build
#                           context OUTPUT_DIR/context/{Dockerfile,rootfs.tar.gz}
#   ova        NAME.ova     ustar: NAME.ovf, NAME.mf (SHA256), NAME-disk1.vmdk (streamOptimized)
#   box        NAME.box     Vagrant box (VirtualBox): metadata.json, Vagrantfile (with
#                           templates/vagrant/Vagrantfile), box.ovf, box-disk001.vmdk
#
# Options (the OS facts come from the OS file; nothing is guessed from NAME):
#   --input-format F          format of INPUT (default qcow2; never probed), e.g. vmdk
#   --os-description TEXT     the OVF's guest OS description (ova, box), e.g. "Rocky 9.8"
#   --guest-os-vsphere ID     vSphere guest id of the OVA (required for ova), e.g. rockylinux_64Guest
#   --guest-os-virtualbox ID  VirtualBox OS type (required for box), e.g. RedHat_64
#   --firmware bios|efi       what the VM boots with (ova, box; the provider's config): the OVF's
#                             vmw:Config firmware (ova), the Vagrantfile's modifyvm --firmware (box,
#                             efi only: BIOS is VirtualBox's default); absent: nothing is written
#   --secure-boot true|false  UEFI Secure Boot (ova, with --firmware efi): uefi.secureBoot.enabled
#
# Everything is made in OUTPUT_DIR.partial, which is renamed to OUTPUT_DIR only when complete
# (a failed conversion removes it; a stale one from a killed run is removed on the next run).
# OUTPUT_DIR gets SHA256SUMS (every file in it, relative paths). Stdout is exactly one JSON line:
#   {"artifact": "/abs/NAME.ext", "sha256": "hex", "bytes": n, "format": FORMAT, ...}
# with "virtualSize" (bytes, disk formats) and "context" (rootfs). Tool output goes to stderr,
# and so does the progress of each qemu-img convert, as a whole line at every 10 %, and a line
# as each other long step (tar, gzip, libguestfs) starts.
#
# Environment:
#   GOLD_ROOT_DEVICE    rootfs: mount this device as / instead of libguestfs inspection (e.g. /dev/sda)
#   GOLD_OVF_CPUS (2), GOLD_OVF_MEMORY_MB (2048)
#   LIBGUESTFS_BACKEND  default "direct" (no libvirt needed; TCG when there is no KVM)
set -euo pipefail

formats="vhd vhd-fixed raw-tar qcow2 rootfs ova box"
here=$(cd "$(dirname "$0")/.." && pwd)
usage() {
    echo "usage: $0 FORMAT INPUT OUTPUT_DIR NAME [--input-format F] [--os-description TEXT] [--guest-os-vsphere ID] [--guest-os-virtualbox ID] [--firmware bios|efi] [--secure-boot true|false]" >&2
    echo "  FORMAT is one of: $formats" >&2
}
die() {
    echo "convert.sh: $*" >&2
    exit 1
}
say() {
    echo "convert.sh: $*" >&2
}
bad() {
    echo "convert.sh: $*" >&2
    exit 2
}

if [ "$#" -lt 4 ]; then
    usage
    exit 2
fi
format=$1
name=$4
in_fmt=qcow2 os_desc="" vsphere_os="" vbox_os="" firmware="" secure_boot=""
input_arg=$2 output_arg=$3
shift 4
while [ "$#" -gt 0 ]; do
    [ "$#" -ge 2 ] || bad "option $1 needs a value"
    case "$1" in
    --input-format) in_fmt=$2 ;;
    --os-description) os_desc=$2 ;;
    --guest-os-vsphere) vsphere_os=$2 ;;
    --guest-os-virtualbox) vbox_os=$2 ;;
    --firmware) firmware=$2 ;;
    --secure-boot) secure_boot=$2 ;;
    *)
        usage
        bad "unknown option '$1'"
        ;;
    esac
    shift 2
done
case " $formats " in
*" $format "*) ;;
*) bad "unknown format '$format'; valid formats: $formats" ;;
esac
if [ ! -f "$input_arg" ] || [ ! -r "$input_arg" ]; then
    bad "input image '$input_arg' does not exist or is not a readable file"
fi
# Every value below is written into XML, Ruby, Dockerfile or JSON text: plain words only.
[[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]] || bad "NAME '$name' must match [A-Za-z0-9][A-Za-z0-9._+-]*"
[[ "$in_fmt" =~ ^(qcow2|raw|vmdk|vpc|vdi)$ ]] || bad "--input-format '$in_fmt' is not one of qcow2, raw, vmdk, vpc, vdi"
[[ "$os_desc" =~ ^[A-Za-z0-9\ ._-]{0,64}$ ]] || bad "--os-description '$os_desc' must be letters, digits, spaces, '.', '_', '-'"
[[ "$vsphere_os" =~ ^([A-Za-z0-9_]+Guest)?$ ]] || bad "--guest-os-vsphere '$vsphere_os' must be a vSphere guest id such as centos7_64Guest"
[[ "$vbox_os" =~ ^[A-Za-z0-9_]*$ ]] || bad "--guest-os-virtualbox '$vbox_os' must be a VirtualBox OS type such as RedHat_64"
[[ "$firmware" =~ ^(bios|efi)?$ ]] || bad "--firmware '$firmware' is not one of bios, efi"
[[ "$secure_boot" =~ ^(true|false)?$ ]] || bad "--secure-boot '$secure_boot' is not one of true, false"
case "$format" in
ova) [ -n "$vsphere_os" ] || bad "format ova needs --guest-os-vsphere (the OS file's guest_os_type_vsphere)" ;;
box) [ -n "$vbox_os" ] || bad "format box needs --guest-os-virtualbox (the OS file's guest_os_type_virtualbox)" ;;
*) [ -z "$firmware$secure_boot" ] || bad "--firmware and --secure-boot are for formats ova and box, not $format" ;;
esac
if [ "$secure_boot" = true ]; then
    [ "$firmware" = efi ] || bad "--secure-boot true needs --firmware efi (Secure Boot is UEFI's)"
    [ "$format" = ova ] || bad "--secure-boot true is for format ova only (VirtualBox's EFI has no Secure Boot keys enrolled)"
fi
if [ -z "${output_arg%/}" ]; then
    bad "OUTPUT_DIR must not be empty or /"
fi
input=$(realpath -e "$input_arg")
out=$(realpath -m "${output_arg%/}")
partial="$out.partial"

need() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || die "'$t' is required for format $format but is not installed"
    done
}
need qemu-img sha256sum tar
case "$format" in
rootfs) need guestfish lzop ;;
esac

MiB=$((1024 * 1024))
GiB=$((1024 * MiB))

# Rounds $1 up to a multiple of $2.
round_up() {
    echo $(((($1 + $2 - 1) / $2) * $2))
}

# A field of `qemu-img info --output=json` (a number) for image $2 in format $3.
img_number() {
    qemu-img info --output=json -f "$3" "$2" | sed -n "s/^ *\"$1\": *\\([0-9][0-9]*\\),*\$/\\1/p" | head -n 1
}

json_str() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}

gzip_cmd() {
    if command -v pigz >/dev/null 2>&1; then echo pigz; else echo gzip; fi
}

# Removes the partial directory unless the conversion finished.
done_ok=0
cleanup() {
    if [ "$done_ok" -ne 1 ]; then
        rm -rf "$partial"
    fi
}
# Long steps run in the background so that a signal is handled at once (bash defers traps
# while a foreground child runs): the step gets SIGTERM, then the partial directory goes.
child=""
step() {
    local rc=0
    "$@" &
    child=$!
    wait "$child" || rc=$?
    child=""
    return "$rc"
}
on_signal() {
    trap - INT TERM HUP
    if [ -n "$child" ]; then
        kill -TERM "$child" 2>/dev/null || true
        wait "$child" 2>/dev/null || true
    fi
    exit "$1"
}
# qemu-img convert -p (it rewrites "    (12.34/100%)" in place with \r) as a whole line at every
# 10 %: @pulumi/command shows a line only once it ends, and keeps stderr in the stack's state.
# The meter reads a FIFO, so that the step stays qemu-img itself (a signal stops it at once).
percent_lines() {
    local chunk step=10 pct
    while IFS= read -r -d $'\r' chunk; do
        [[ $chunk =~ \(([0-9]+)\.[0-9]+/100%\) ]] || continue
        pct=${BASH_REMATCH[1]}
        if [ "$pct" -ge "$step" ]; then
            echo "convert.sh: $1: $pct%"
            step=$((pct / 10 * 10 + 10))
        fi
    done
}
img_convert() {
    local what=$1 meter
    shift
    mkfifo "$partial/.progress"
    percent_lines "$what" <"$partial/.progress" >&2 &
    meter=$!
    step qemu-img convert -p "$@" >"$partial/.progress"
    wait "$meter" || true
    rm -f "$partial/.progress"
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 129' HUP

# A swap cut short by SIGKILL (between its two renames) left only OUTPUT_DIR.old: put it back.
if [ ! -e "$out" ] && [ -d "$out.old" ]; then
    mv "$out.old" "$out"
fi
rm -rf "$partial"
mkdir -p "$partial"

virtual_size=$(img_number virtual-size "$input" "$in_fmt")
[ -n "$virtual_size" ] || die "cannot read the virtual size of $input as $in_fmt"

# The OVA's ProductSection: the properties vSphere asks for at deployment, as cloud-init reads them.
ovf_product() {
    cat <<EOF
    <ProductSection ovf:required="false">
      <Info>Cloud-init customization: the machine's name and its user's SSH key, read at first boot</Info>
      <Product>$name</Product>
      <Property ovf:key="instance-id" ovf:type="string" ovf:userConfigurable="true" ovf:value="id-ovf">
        <Label>Instance id</Label>
        <Description>Changing it makes cloud-init treat the VM as new</Description>
      </Property>
      <Property ovf:key="hostname" ovf:type="string" ovf:userConfigurable="true" ovf:value="">
        <Label>Hostname</Label>
        <Description>The VM's host name</Description>
      </Property>
      <Property ovf:key="public-keys" ovf:type="string" ovf:userConfigurable="true" ovf:value="">
        <Label>SSH public key</Label>
        <Description>Authorized for the image's default user</Description>
      </Property>
      <Property ovf:key="user-data" ovf:type="string" ovf:userConfigurable="true" ovf:value="">
        <Label>cloud-init user data</Label>
        <Description>Base64-encoded cloud-config</Description>
      </Property>
    </ProductSection>
EOF
}

# A CD-ROM on the SATA controller: where vSphere puts ovf-env.xml at power-on.
ovf_cdrom() {
    cat <<EOF

      <Item ovf:required="false">
        <rasd:AddressOnParent>1</rasd:AddressOnParent>
        <rasd:AutomaticAllocation>false</rasd:AutomaticAllocation>
        <rasd:ElementName>CD/DVD drive 1</rasd:ElementName>
        <rasd:InstanceID>6</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent>
        <rasd:ResourceSubType>vmware.cdrom.remotepassthrough</rasd:ResourceSubType>
        <rasd:ResourceType>15</rasd:ResourceType>
      </Item>
EOF
}

# vSphere's firmware of the VM (and its Secure Boot), as --firmware and --secure-boot say.
ovf_boot() {
    [ -n "$firmware" ] || return 0
    echo
    echo "      <vmw:Config ovf:required=\"false\" vmw:key=\"firmware\" vmw:value=\"$firmware\"/>"
    if [ "$secure_boot" = true ]; then
        echo "      <vmw:Config ovf:required=\"false\" vmw:key=\"uefi.secureBoot.enabled\" vmw:value=\"true\"/>"
    fi
}

# Writes an OVF 1.0 descriptor for one disk, shared by vmware (OVA) and virtualbox (box):
#   write_ovf PROFILE OVF_FILE DISK_FILE
# PROFILE vmware: vmx-10, SATA AHCI, VMXNET3; virtualbox: virtualbox-2.2, SATA AHCI, E1000/NAT.
write_ovf() {
    local profile=$1 ovf=$2 disk=$3
    local disk_bytes cpus=${GOLD_OVF_CPUS:-2} mem=${GOLD_OVF_MEMORY_MB:-2048}
    local systype ctl_name ctl_type ctl_sub nic_sub net_name vmw_type="" vbox_type=""
    disk_bytes=$(stat -c %s "$disk")
    case "$profile" in
    vmware)
        # SATA (AHCI): every vSphere host (hardware version 10+) and every kernel has it; LSI
        # Logic parallel SCSI's driver (mptspi) is gone from EL8 and later.
        systype=vmx-10 ctl_name="SATA Controller 0" ctl_type=20 ctl_sub=vmware.sata.ahci nic_sub=VMXNET3 net_name="VM Network" vmw_type=$vsphere_os
        ;;
    virtualbox)
        systype=virtualbox-2.2 ctl_name="SATA Controller" ctl_type=20 ctl_sub=AHCI nic_sub=E1000 net_name=NAT vbox_type=$vbox_os
        ;;
    *) die "write_ovf: unknown profile $profile" ;;
    esac
    # Each hypervisor reads its own guest type; the other's is left out.
    local os_attr="" os_vbox="" product="" transport="" cdrom="" boot=""
    [ -z "$vmw_type" ] || os_attr=" vmw:osType=\"$vmw_type\""
    [ -z "$vbox_type" ] || os_vbox=$'\n'"      <vbox:OSType ovf:required=\"false\">$vbox_type</vbox:OSType>"
    if [ "$profile" = vmware ]; then
        # vSphere's way into the VM: vApp properties that cloud-init's OVF datasource reads,
        # delivered at power-on as ovf-env.xml on a CD-ROM (the ISO transport).
        transport=' ovf:transport="iso"'
        product=$(ovf_product)
        cdrom=$(ovf_cdrom)
        boot=$(ovf_boot)
    fi
    cat >"$ovf" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:vbox="http://www.virtualbox.org/ovf/machine" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ovf:version="1.0">
  <References>
    <File ovf:href="$(basename "$disk")" ovf:id="file1" ovf:size="$disk_bytes"/>
  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
    <Disk ovf:capacity="$virtual_size" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
    <Network ovf:name="$net_name">
      <Description>The $net_name network</Description>
    </Network>
  </NetworkSection>
  <VirtualSystem ovf:id="$name">
    <Info>A virtual machine</Info>
    <Name>$name</Name>
    <AnnotationSection>
      <Info>A human-readable annotation</Info>
      <Annotation>$name</Annotation>
    </AnnotationSection>
$product
    <OperatingSystemSection ovf:id="101"$os_attr>
      <Info>The kind of installed guest operating system</Info>
      <Description>${os_desc:-Linux 64-Bit}</Description>$os_vbox
    </OperatingSystemSection>
    <VirtualHardwareSection$transport>
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>$name</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>$systype</vssd:VirtualSystemType>
      </System>
      <Item>
        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>
        <rasd:Description>Number of Virtual CPUs</rasd:Description>
        <rasd:ElementName>$cpus virtual CPU(s)</rasd:ElementName>
        <rasd:InstanceID>1</rasd:InstanceID>
        <rasd:ResourceType>3</rasd:ResourceType>
        <rasd:VirtualQuantity>$cpus</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>
        <rasd:Description>Memory Size</rasd:Description>
        <rasd:ElementName>${mem}MB of memory</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID>
        <rasd:ResourceType>4</rasd:ResourceType>
        <rasd:VirtualQuantity>$mem</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:Address>0</rasd:Address>
        <rasd:Description>Disk controller</rasd:Description>
        <rasd:ElementName>$ctl_name</rasd:ElementName>
        <rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceSubType>$ctl_sub</rasd:ResourceSubType>
        <rasd:ResourceType>$ctl_type</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>0</rasd:AddressOnParent>
        <rasd:ElementName>Hard Disk 1</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>
        <rasd:InstanceID>4</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent>
        <rasd:ResourceType>17</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
        <rasd:Connection>$net_name</rasd:Connection>
        <rasd:Description>$nic_sub ethernet adapter on "$net_name"</rasd:Description>
        <rasd:ElementName>Network adapter 1</rasd:ElementName>
        <rasd:InstanceID>5</rasd:InstanceID>
        <rasd:ResourceSubType>$nic_sub</rasd:ResourceSubType>
        <rasd:ResourceType>10</rasd:ResourceType>
      </Item>$cdrom$boot
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
EOF
}

# A VMDK's own adapter type has no SATA value: "ide" stands for it (the OVF's controller rules).
stream_vmdk() {
    img_convert "$in_fmt to streamOptimized VMDK" -f "$in_fmt" -O vmdk -o subformat=streamOptimized,adapter_type=ide "$input" "$1"
}

# Each format leaves its main file in $artifact (+ $extra JSON fields).
extra=""
case "$format" in
vhd)
    artifact="$partial/$name.vhd"
    img_convert "$in_fmt to dynamic VHD" -f "$in_fmt" -O vpc -o subformat=dynamic "$input" "$artifact"
    vsize=$(img_number virtual-size "$artifact" vpc)
    extra=", \"subformat\": \"dynamic\", \"virtualSize\": $vsize"
    ;;
vhd-fixed)
    artifact="$partial/$name.vhd"
    raw="$partial/.disk.raw"
    img_convert "$in_fmt to raw" -f "$in_fmt" -O raw "$input" "$raw"
    vsize=$(round_up "$(stat -c %s "$raw")" "$MiB")
    if [ "$vsize" -ne "$(stat -c %s "$raw")" ]; then
        qemu-img resize -f raw "$raw" "$vsize" >&2
    fi
    img_convert "raw to fixed VHD" -f raw -O vpc -o subformat=fixed,force_size "$raw" "$artifact"
    rm -f "$raw"
    extra=", \"subformat\": \"fixed\", \"virtualSize\": $vsize"
    ;;
raw-tar)
    artifact="$partial/$name.tar.gz"
    raw="$partial/disk.raw"
    img_convert "$in_fmt to raw" -f "$in_fmt" -O raw "$input" "$raw"
    vsize=$(round_up "$(stat -c %s "$raw")" "$GiB")
    if [ "$vsize" -ne "$(stat -c %s "$raw")" ]; then
        qemu-img resize -f raw "$raw" "$vsize" >&2
    fi
    say "disk.raw into $name.tar.gz (sparse tar, $(gzip_cmd))"
    step tar --format=oldgnu --sparse --owner=0 --group=0 --numeric-owner \
        -I "$(gzip_cmd)" -cf "$artifact" -C "$partial" disk.raw
    rm -f "$raw"
    extra=", \"virtualSize\": $vsize"
    ;;
qcow2)
    artifact="$partial/$name.qcow2"
    img_convert "$in_fmt to compressed qcow2" -f "$in_fmt" -O qcow2 -c "$input" "$artifact"
    extra=", \"virtualSize\": $virtual_size"
    ;;
rootfs)
    artifact="$partial/$name.tar.gz"
    export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
    # Directories stay (an image needs the mount points), their contents go.
    excludes="./proc/* ./sys/* ./dev/* ./run/* ./boot/* ./tmp/* ./var/tmp/* ./var/cache/* ./lost+found/*"
    if [ -n "${GOLD_ROOT_DEVICE:-}" ]; then
        mount_opts=(-m "$GOLD_ROOT_DEVICE")
    else
        mount_opts=(-i)
    fi
    start=$SECONDS
    rootfs_tar="$partial/.rootfs.tar"
    say "the root file system out of the image (libguestfs tar-out)"
    # lzop'd by the appliance: without KVM its bytes cross the emulated channel at a few MB/s, and
    # a third of them (lzop is cheap even emulated) took 64 s against 170 for 800 MB here. The
    # decompressed stream is the very tar an uncompressed tar-out writes.
    step guestfish --ro --format="$in_fmt" -a "$input" "${mount_opts[@]}" \
        tar-out / "$rootfs_tar.lzo" compress:lzop numericowner:true xattrs:true "excludes:$excludes" >&2
    step lzop -d -o "$rootfs_tar" "$rootfs_tar.lzo"
    rm -f "$rootfs_tar.lzo"
    say "libguestfs tar-out took $((SECONDS - start)) s"
    listing=$(tar -tf "$rootfs_tar")
    grep -qx -e './etc' -e './etc/' <<<"$listing" || die "the root filesystem tarball has no /etc: wrong root device?"
    if grep -qx -e './bin/bash' -e './usr/bin/bash' <<<"$listing"; then shell=/bin/bash; else shell=/bin/sh; fi
    say "the root file system into $name.tar.gz ($(gzip_cmd))"
    step "$(gzip_cmd)" -c "$rootfs_tar" >"$artifact"
    rm -f "$rootfs_tar"
    mkdir "$partial/context"
    ln "$artifact" "$partial/context/rootfs.tar.gz"
    {
        echo "FROM scratch"
        echo "ADD rootfs.tar.gz /"
        echo "LABEL org.opencontainers.image.title=\"$name\""
        echo "CMD [\"$shell\"]"
    } >"$partial/context/Dockerfile"
    extra=", \"context\": $(json_str "$out/context")"
    ;;
ova)
    artifact="$partial/$name.ova"
    members="$partial/.ova"
    mkdir "$members"
    stream_vmdk "$members/$name-disk1.vmdk"
    write_ovf vmware "$members/$name.ovf" "$members/$name-disk1.vmdk"
    (cd "$members" && sha256sum "$name.ovf" "$name-disk1.vmdk") |
        sed -E 's/^([0-9a-f]{64})  (.*)$/SHA256(\2)= \1/' >"$members/$name.mf"
    say "packing $name.ova"
    step tar --format=ustar --owner=0 --group=0 --numeric-owner --mode=0644 \
        -cf "$artifact" -C "$members" "$name.ovf" "$name.mf" "$name-disk1.vmdk"
    rm -rf "$members"
    extra=", \"virtualSize\": $virtual_size"
    ;;
box)
    artifact="$partial/$name.box"
    members="$partial/.box"
    mkdir "$members"
    stream_vmdk "$members/box-disk001.vmdk"
    write_ovf virtualbox "$members/box.ovf" "$members/box-disk001.vmdk"
    echo '{"provider": "virtualbox"}' >"$members/metadata.json"
    # VirtualBox NAT MAC (OUI 08:00:27), fixed per NAME so the box is reproducible.
    mac="080027$(printf '%s' "$name" | sha256sum | cut -c1-6 | tr '[:lower:]' '[:upper:]')"
    {
        cat <<EOF
# Packaged defaults of the $name box.
Vagrant.configure("2") do |config|
  config.vm.base_mac = "$mac"
EOF
        if [ "$firmware" = efi ]; then
            cat <<EOF
  config.vm.provider "virtualbox" do |vb|
    vb.customize ["modifyvm", :id, "--firmware", "efi"]
  end
EOF
        fi
        echo "end"
        cat "$here/templates/vagrant/Vagrantfile"
    } >"$members/Vagrantfile"
    say "packing $name.box ($(gzip_cmd))"
    step tar --owner=0 --group=0 --numeric-owner --mode=0644 -I "$(gzip_cmd)" \
        -cf "$artifact" -C "$members" metadata.json Vagrantfile box.ovf box-disk001.vmdk
    rm -rf "$members"
    extra=", \"virtualSize\": $virtual_size"
    ;;
esac

(cd "$partial" && find . -type f ! -name SHA256SUMS ! -name .SHA256SUMS.tmp -printf '%P\n' | LC_ALL=C sort | xargs -r -d '\n' sha256sum >".SHA256SUMS.tmp")
mv "$partial/.SHA256SUMS.tmp" "$partial/SHA256SUMS"

# Swap in the finished directory: the old OUTPUT_DIR (if any) is moved aside, then removed.
# No signal may come between the two renames (SIGKILL can: the next run puts .old back).
trap '' INT TERM HUP
if [ -e "$out" ]; then
    rm -rf "$out.old"
    mv "$out" "$out.old"
fi
mv "$partial" "$out"
done_ok=1
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 129' HUP
rm -rf "$out.old"

artifact="$out/${artifact#"$partial/"}"
sum=$(awk -v f="${artifact#"$out/"}" '$2 == f { print $1; exit }' "$out/SHA256SUMS")
printf '{"artifact": %s, "sha256": "%s", "bytes": %s, "format": "%s", "name": "%s"%s}\n' \
    "$(json_str "$artifact")" "$sum" "$(stat -c %s "$artifact")" "$format" "$name" "$extra"
