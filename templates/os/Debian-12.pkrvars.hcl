# Debian 12 (bookworm): no kickstart, so its base starts from an existing disk image (config
# baseImages: a vendor cloud image, or the end-to-end test's debootstrap disk). The ISO fields
# describe the netinst ISO for completeness; an ISO install would need a preseed, not provided.
vm_name    = "Debian-12"
os_name    = "Debian"
os_version = "12"
os_major   = 12
# libosinfo short id (OpenStack os_distro, the OVF description).
os_distro = "debian"
kickstart = "none"
iso_name  = "debian-12.8.0-amd64-netinst.iso"
iso_url   = "https://cdimage.debian.org/cdimage/archive/12.8.0/amd64/iso-cd/debian-12.8.0-amd64-netinst.iso"
# sha256 of debian-12.8.0-amd64-netinst.iso as Debian's SHA256SUMS lists it, quoted in a public
# Packer template (sentinelcore debian12 .pkr.hcl, iso_checksum default); one source only.
iso_checksum = "sha256:c9d35acd27b848c5cf7537053e6ebc55c19d31b43346fb776fb5f8a9e2cf7f14"
install_url  = "http://deb.debian.org/debian"
# Debian repositories are "URL SUITE COMPONENT..." (a bare URL means the release's main).
extra_repos = {
  security = "http://deb.debian.org/debian-security bookworm-security main"
  updates  = "http://deb.debian.org/debian bookworm-updates main"
}
boot_command             = []
guest_os_type_virtualbox = "Debian_64"
guest_os_type_vmware     = "debian12-64"
# The vSphere API name of the same guest type (the OVA's vmw:osType).
guest_os_type_vsphere = "debian12_64Guest"
# Boot: one hybrid GPT disk (BIOS boot partition + EFI system partition), GRUB for i386-pc and
# x86_64-efi, booted under Secure Boot through Debian's shim-signed and grub-efi-amd64-signed.
# The kernel's drivers for the clouds' current machines (Debian 12's 6.1 has no idpf: it came in 6.7);
# the first-boot test checks each is in the image's kernel.
firmware       = ["bios", "uefi"]
secure_boot    = true
kernel_drivers = ["nvme", "ena", "gve", "mana", "hv_netvsc", "hv_storvsc", "vmw_pvscsi", "vmxnet3", "virtio_scsi"]
# EC2: cloud-init speaks IMDSv2 (its AMI requires tokens).
imds_v2 = true
# The user cloud-init makes by default (this OS's cloud.cfg): clouds give it the user's key.
cloud_user = "debian"
