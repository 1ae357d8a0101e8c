# AlmaLinux OS 9.8, x86_64 Minimal ISO from repo.almalinux.org (moves to vault.almalinux.org/9.8/ once 9.9 is out).
vm_name    = "AlmaLinux-9.8"
os_name    = "AlmaLinux"
os_version = "9.8"
os_major   = 9
# libosinfo short id (OpenStack os_distro, the OVF description).
os_distro = "almalinux"
iso_name  = "AlmaLinux-9.8-x86_64-minimal.iso"
iso_url   = "https://repo.almalinux.org/almalinux/9.8/isos/x86_64/AlmaLinux-9.8-x86_64-minimal.iso"
# From https://repo.almalinux.org/almalinux/9.8/isos/x86_64/CHECKSUM (PGP-signed), not reachable from here.
# The value agrees in independent public repositories: a Packer template pinning alma_version "9.8"
# (iso_checksum default, "verify from .../9/isos/x86_64/CHECKSUM"), a Python ISO catalog (2838495232 bytes),
# and a QEMU lab write-up ("verified against AlmaLinux's official checksum", as AlmaLinux-9-latest-x86_64-minimal.iso).
iso_checksum = "sha256:7762a4b45a66235726db145a573658964bf77bf7b9bc1c018afe86a4cf37cc2e"
install_url  = "https://repo.almalinux.org/almalinux/9.8/BaseOS/x86_64/os/"
extra_repos = {
  AppStream = "https://repo.almalinux.org/almalinux/9.8/AppStream/x86_64/os/"
}
# isolinux menu (BIOS): the default entry is "Test this media & install AlmaLinux 9.8";
# <up> selects "Install AlmaLinux 9.8", <tab> opens its kernel line. The Minimal ISO carries its own
# stage2 and the kickstart's url line names the install tree, so no inst.repo= is needed.
boot_command = [
  "<up><tab> inst.text inst.ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter><wait>"
]
guest_os_type_virtualbox = "RedHat_64"
# almalinux-64 needs VMware Workstation 17 / ESXi 8 or later; use "centos9-64" on older VMware.
guest_os_type_vmware = "almalinux-64"
# The vSphere API name of the same guest type (the OVA's vmw:osType).
guest_os_type_vsphere = "almalinux_64Guest"
# Boot: one hybrid GPT disk (biosboot + EFI system partition), GRUB for i386-pc and x86_64-efi,
# booted under Secure Boot through the distribution's shim-x64 and grub2-efi-x64.
# The kernel's drivers for the clouds' current machines (RHEL 9.4 release notes: idpf; 9.2: mana);
# the first-boot test checks each is in the image's kernel (not buildable here: no EL ISO).
firmware       = ["bios", "uefi"]
secure_boot    = true
kernel_drivers = ["nvme", "ena", "gve", "idpf", "mana", "hv_netvsc", "hv_storvsc", "vmw_pvscsi", "vmxnet3", "virtio_scsi"]
# EC2: cloud-init speaks IMDSv2 (its AMI requires tokens).
imds_v2 = true
# The user cloud-init makes by default (this OS's cloud.cfg): clouds give it the user's key.
cloud_user = "almalinux"
