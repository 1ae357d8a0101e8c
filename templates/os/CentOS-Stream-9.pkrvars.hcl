# CentOS Stream 9, x86_64 boot (network install) ISO of the dated compose 20260615.0 from mirror.stream.centos.org.
vm_name = "CentOS-Stream-9"
# Ansible reports ansible_distribution "CentOS" and ansible_distribution_version "9" on CentOS Stream 9.
os_name    = "CentOS"
os_version = "9"
os_major   = 9
# libosinfo short id (OpenStack os_distro, the OVF description).
os_distro = "centos"
iso_name  = "CentOS-Stream-9-20260615.0-x86_64-boot.iso"
# mirror.stream.centos.org keeps only recent composes: when this one is pruned, take the same file from
# https://composes.stream.centos.org/production/CentOS-Stream-9-20260615.0/compose/BaseOS/x86_64/iso/ or the iso_server.
iso_url = "https://mirror.stream.centos.org/9-stream/BaseOS/x86_64/iso/CentOS-Stream-9-20260615.0-x86_64-boot.iso"
# sha256 as published in CentOS-Stream-9-20260615.0-x86_64-boot.iso.SHA256SUM next to the ISO (not reachable from here).
# Single source found: NeCTAR-RC/nectar-images vars/centos-stream-9.pkrvars.hcl (a 2026 revision pinning this compose;
# the same repository's Rocky 9.8 and AlmaLinux 9.8 boot ISO pins match the vendors' CHECKSUM files).
iso_checksum = "sha256:efc4101ddddab139d2dda7d805e1b6e10ecc682890d2d37209f1d1cb54e8a98c"
install_url  = "https://mirror.stream.centos.org/9-stream/BaseOS/x86_64/os/"
extra_repos = {
  AppStream = "https://mirror.stream.centos.org/9-stream/AppStream/x86_64/os/"
}
# isolinux menu (BIOS): the default entry is "Test this media & install CentOS Stream 9";
# <up> selects "Install CentOS Stream 9", <tab> opens its kernel line. A boot ISO holds no packages:
# the kickstart's url (install_url, through the build proxy) names the install tree, as for Rocky.
boot_command = [
  "<up><tab> inst.text inst.ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter><wait>"
]
guest_os_type_virtualbox = "RedHat_64"
guest_os_type_vmware     = "centos9-64"
# The vSphere API name of the same guest type (the OVA's vmw:osType).
guest_os_type_vsphere = "centos9_64Guest"
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
cloud_user = "cloud-user"
