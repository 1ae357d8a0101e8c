# Red Hat Enterprise Linux 9.6, x86_64 binary DVD; RHEL media is not public, so the ISO comes only from the site's iso_server.
vm_name    = "RedHat-9.6"
os_name    = "RedHat"
os_version = "9.6"
os_major   = 9
# libosinfo short id (OpenStack os_distro, the OVF description).
os_distro = "rhel"
iso_name  = "rhel-9.6-x86_64-dvd.iso"
iso_url   = ""
# sha256 of rhel-9.6-x86_64-dvd.iso ("Red Hat Enterprise Linux 9.6 Binary DVD", published 2025-04-22) as listed on
# Red Hat's download page / Customer Portal image API (login required, not reachable from here). The value agrees in
# independent public sources: a Red Hat ISO download tool's docs (the API's JSON listing for 9.6 x86_64), a Hyper-V
# Packer template for RHEL 9.6, a Packer variables map for rhel9 x86_64, and an Image Builder UI mock-up.
# RHEL 9.7 and 9.8 exist, but no published checksum for their DVDs was found in the offline sources.
iso_checksum = "sha256:febcc1359fd68faceff82d7eed8d21016e022a17e9c74e0e3f9dc3a78816b2bb"
# Expected site mirror layout under repo_server (plain HTTP, dnf repositories):
#   rhel-9.6/BaseOS/x86_64/os/     the DVD's BaseOS/ directory, or a reposync of rhel-9-for-x86_64-baseos-eus-rpms at 9.6
#   rhel-9.6/AppStream/x86_64/os/  the DVD's AppStream/ directory, or a reposync of rhel-9-for-x86_64-appstream-eus-rpms at 9.6
install_url = "{{ repo_server }}/rhel-9.6/BaseOS/x86_64/os/"
extra_repos = {
  AppStream = "{{ repo_server }}/rhel-9.6/AppStream/x86_64/os/"
}
# isolinux menu (BIOS): the default entry is "Test this media & install Red Hat Enterprise Linux 9.6";
# <up> selects "Install Red Hat Enterprise Linux 9.6", <tab> opens its kernel line. The DVD carries stage2
# and packages, and the kickstart's url line names the install tree, so no inst.repo= is needed.
boot_command = [
  "<up><tab> inst.text inst.ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter><wait>"
]
guest_os_type_virtualbox = "RedHat_64"
guest_os_type_vmware     = "rhel9-64"
# The vSphere API name of the same guest type (the OVA's vmw:osType).
guest_os_type_vsphere = "rhel9_64Guest"
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
