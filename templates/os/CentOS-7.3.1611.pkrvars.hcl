# CentOS Linux 7.3 (1611), x86_64 Minimal ISO; end of life, so the ISO and all repositories come from vault.centos.org.
vm_name = "CentOS-7.3.1611"
os_name = "CentOS"
# The seed's naming. Older Ansible reports ansible_distribution_version "7.3.1611" on CentOS 7;
# newer Ansible (distro-based facts, 2.8+) reports "7.3". Compare with care.
os_version = "7.3.1611"
os_major   = 7
# libosinfo short id (OpenStack os_distro, the OVF description).
os_distro = "centos"
iso_name  = "CentOS-7-x86_64-Minimal-1611.iso"
iso_url   = "https://vault.centos.org/7.3.1611/isos/x86_64/CentOS-7-x86_64-Minimal-1611.iso"
# Published sha256 of CentOS-7-x86_64-Minimal-1611.iso (vault.centos.org/7.3.1611/isos/x86_64/sha256sum.txt).
# The vault file itself is not in the offline corpus; the value agrees in independent public repositories:
#   dweomer/vagrantry distro/centos/7.3-amd64.pkrvars.hcl (commit 40bc6353)
#   CommanderK5/packer-centos-template README.md
#   a Bloomberg cobblerd cookbook recipe, nutanix terraform examples, a hyperv packer template
iso_checksum = "sha256:27bd866242ee058b7a5754e83d8ee8403e216b93d130d800852a96f41c34d86a"
# http, not https: the 2016 installer's CA bundle predates the vault's current certificate chain.
install_url = "http://vault.centos.org/7.3.1611/os/x86_64/"
# extras holds cloud-init and WALinuxAgent (ansible/package-sources.yml): the cloud roles need it.
extra_repos = {
  updates = "http://vault.centos.org/7.3.1611/updates/x86_64/"
  extras  = "http://vault.centos.org/7.3.1611/extras/x86_64/"
}
# isolinux menu (BIOS): the default entry is "Test this media & install CentOS 7";
# <up> selects "Install CentOS 7", <tab> opens its kernel line for editing.
boot_command = [
  "<up><tab> inst.text inst.ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter><wait>"
]
guest_os_type_virtualbox = "RedHat_64"
guest_os_type_vmware     = "centos7-64"
# The vSphere API name of the same guest type (the OVA's vmw:osType).
guest_os_type_vsphere = "centos7_64Guest"
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
cloud_user = "centos"
