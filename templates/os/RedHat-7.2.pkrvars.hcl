# Red Hat Enterprise Linux Server 7.2, x86_64 binary DVD; RHEL media is not public, so the ISO comes only from the site's iso_server.
vm_name    = "RedHat-7.2"
os_name    = "RedHat"
os_version = "7.2"
os_major   = 7
# libosinfo short id (OpenStack os_distro, the OVF description).
os_distro = "rhel"
iso_name  = "rhel-server-7.2-x86_64-dvd.iso"
iso_url   = ""
# sha256 of rhel-server-7.2-x86_64-dvd.iso (4043309056 bytes) as published on Red Hat's download page
# (access.redhat.com, login required, not reachable from here). Taken from
#   simp/simp-core build/release_mappings.yaml (SIMP 5.1.x "officially supported" ISO list, with size)
# Only one independent public source was found: verify against the Customer Portal before the first build.
iso_checksum = "sha256:03f3a0291634335f6995534d829bd21ffaa0d000004dfeb1b2fb81052d64a4d5"
# Expected site mirror layout under repo_server (plain HTTP, yum repositories):
#   rhel-7.2/os/x86_64/       the contents of rhel-server-7.2-x86_64-dvd.iso (install tree, .treeinfo, repodata)
#   rhel-7.2/updates/x86_64/  reposync of rhel-7-server-rpms frozen at the 7.2 point (or an EUS 7.2 channel), with createrepo
#   rhel-7/extras/x86_64/     reposync of rhel-7-server-extras-rpms (WALinuxAgent)
#   rhel-7/rh-common/x86_64/  reposync of rhel-7-server-rh-common-rpms (cloud-init)
#   rhel-7/atomic-host/x86_64/ reposync of rhel-atomic-host-rpms (cloud-utils-growpart, which 7.2's other channels lack)
install_url = "{{ repo_server }}/rhel-7.2/os/x86_64/"
extra_repos = {
  updates     = "{{ repo_server }}/rhel-7.2/updates/x86_64/"
  extras      = "{{ repo_server }}/rhel-7/extras/x86_64/"
  rh-common   = "{{ repo_server }}/rhel-7/rh-common/x86_64/"
  atomic-host = "{{ repo_server }}/rhel-7/atomic-host/x86_64/"
}
# isolinux menu (BIOS): the default entry is "Test this media & install Red Hat Enterprise Linux 7.2";
# <up> selects "Install Red Hat Enterprise Linux 7.2", <tab> opens its kernel line for editing.
boot_command = [
  "<up><tab> inst.text inst.ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter><wait>"
]
guest_os_type_virtualbox = "RedHat_64"
guest_os_type_vmware     = "rhel7-64"
# The vSphere API name of the same guest type (the OVA's vmw:osType).
guest_os_type_vsphere = "rhel7_64Guest"
# Boot: BIOS only (an MBR disk). EL 7.2/7.3's shim (0.9) predates SBAT: firmware with today's
# revocations (dbx, SBAT) refuses it, so no Secure Boot; and their anaconda makes the layout of
# the firmware it runs on only (no hybrid disk). Their kernel (3.10.0-327/-514) has no ENA, gVNIC,
# IDPF or MANA driver: EC2 Xen types and Azure's synthetic NIC only.
firmware       = ["bios"]
secure_boot    = false
kernel_drivers = ["nvme", "hv_netvsc", "hv_storvsc", "vmw_pvscsi", "vmxnet3", "virtio_scsi"]
# EC2: this release's cloud-init predates IMDSv2 (its AMI allows IMDSv1); no ENA driver
# (in EL kernels from 7.4), so its AMI is registered without ENA: Xen instance types only.
imds_v2 = false
# The user cloud-init makes by default (this OS's cloud.cfg): clouds give it the user's key.
cloud_user = "cloud-user"
