# Site variables: defaults here, overridden per site in site.pkrvars.hcl (see the .example).

variable "namespace" {
  type        = string
  default     = "gold"
  description = "Prefix of published names, e.g. Vagrant boxes <namespace>/<vm_name>."
}

variable "version" {
  type        = string
  default     = "0.0.0"
  description = "Image version, in the names of a build run by hand (the seed's layout); empty: no version in any name (the Pulumi program's builds, shared by every version stack)."
}

variable "headless" {
  type    = bool
  default = true
}

variable "iso_server" {
  type        = string
  default     = ""
  description = "Site mirror for ISOs, tried before the public URL; the only source of RHEL ISOs."
}

variable "repo_server" {
  type        = string
  default     = ""
  description = "Site mirror for package repositories; OS files refer to it as {{ repo_server }}."
}

variable "locale" {
  type    = string
  default = "en_US.UTF-8"
}

variable "keyboard" {
  type    = string
  default = "us"
}

variable "timezone" {
  type    = string
  default = "UTC"
}

variable "disk_size" {
  type        = number
  default     = 8192
  description = "Disk size in MiB."
}

variable "memory" {
  type    = number
  default = 2048
}

variable "cpus" {
  type    = number
  default = 2
}

variable "accelerator" {
  type        = string
  default     = "kvm"
  description = "QEMU accelerator: kvm, or tcg where there is no KVM (slow)."
  validation {
    condition     = contains(["kvm", "tcg", "hvf", "whpx", "xen", "none"], var.accelerator)
    error_message = "The accelerator must be one of kvm, tcg, hvf, whpx, xen, none."
  }
}

variable "artifacts_dir" {
  type    = string
  default = "artifacts"
}

variable "output_dir" {
  type        = string
  default     = ""
  description = "Overrides artifacts/<version>/<vm_name>/<build>/ (the Pulumi program builds into a directory per input fingerprint)."
}

variable "http_directory" {
  type        = string
  default     = "artifacts/http"
  description = "Rendered kickstarts (npm run ks -- --out DIR), served by Packer's HTTP server."
}

variable "ssh_username" {
  type    = string
  default = "root"
}

variable "ssh_private_key_file" {
  type        = string
  default     = "keys/packer"
  description = "The build key (scripts/gen-keys.sh); removed from the image by the cleanup role."
}

variable "ssh_timeout" {
  type    = string
  default = "60m"
}

variable "boot_wait" {
  type    = string
  default = "10s"
}

variable "ansible_extra_args" {
  type        = list(string)
  default     = []
  description = "Extra ansible-playbook arguments, e.g. [\"-vv\"]."
}

# Stage inputs: set by the Pulumi program for the base-from-disk and variant stages.

variable "source_disk" {
  type        = string
  default     = ""
  description = "Disk image that base-disk (an existing image) or variant (the base) starts from."
}

variable "source_disk_checksum" {
  type    = string
  default = "none"
}

variable "build_name" {
  type        = string
  default     = "base"
  description = "The build: base, or the provider (a role of ansible/roles/) whose image the variant and iso sources build."
  validation {
    # Packer 1.6.6 has no regex() in validation rules: a name without '/', '.' or spaces that
    # names a role (checked again by ansible/site.yml and by the program's provider registry).
    condition     = length(var.build_name) > 0 && length(split("/", var.build_name)) == 1 && length(split(".", var.build_name)) == 1 && length(split(" ", var.build_name)) == 1
    error_message = "The build_name must be base or a provider's name (a role of ansible/roles/)."
  }
}

variable "provider_vars" {
  type        = map(string)
  default     = {}
  description = "The provider's build settings from its config, for its role (e.g. guest_repo)."
}

variable "build_proxy_port" {
  type        = number
  default     = 0
  description = "Port on 127.0.0.1 of the build's allow-list proxy (scripts/build-proxy.ts sets it as PKR_VAR_build_proxy_port); 0: none, and a QEMU guest reaches no mirror at all."
}

variable "build_mirrors" {
  type        = list(string)
  default     = []
  description = "Mirrors a provider's role fetches from besides the OS file's (e.g. Google's guest environment repository): on the build proxy's allow list."
}

variable "qemuargs" {
  type        = list(list(string))
  default     = []
  description = "Extra QEMU arguments, e.g. direct kernel boot of a disk without a bootloader."
}

# OS variables: one file per OS in os/<vm_name>.pkrvars.hcl, no defaults.

variable "vm_name" {
  type = string
}

variable "os_name" {
  type = string
}

variable "os_version" {
  type = string
}

variable "os_major" {
  type = number
}

variable "os_distro" {
  type        = string
  description = "libosinfo short id (OpenStack os_distro, the OVF description)."
}

variable "kickstart" {
  type        = string
  default     = ""
  description = "Kickstart family: el7, el8 (EL8 and later), or none for an OS whose base starts only from an existing disk image; empty: from os_major."
  validation {
    condition     = contains(["", "el7", "el8", "none"], var.kickstart)
    error_message = "The kickstart must be one of el7, el8, none (or empty)."
  }
}

variable "iso_name" {
  type = string
}

variable "iso_url" {
  type = string
}

variable "iso_checksum" {
  type = string
  validation {
    # Packer 1.6.6 offers no regex() in validation rules; the TypeScript reader checks the hex.
    condition     = substr(var.iso_checksum, 0, 7) == "sha256:" && length(var.iso_checksum) == 71
    error_message = "The iso_checksum must be the literal sha256 of the ISO: \"sha256:<64 hex digits>\"."
  }
}

variable "boot_command" {
  type = list(string)
}

variable "install_url" {
  type = string
}

variable "extra_repos" {
  type = map(string)
}

variable "guest_os_type_virtualbox" {
  type = string
}

variable "guest_os_type_vmware" {
  type = string
}

variable "cloud_user" {
  type        = string
  description = "The user cloud-init makes by default on this OS (its cloud.cfg), e.g. debian, rocky, cloud-user."
}

variable "firmware" {
  type        = list(string)
  description = "The firmware the OS's disk boots with: bios, uefi (a hybrid disk: both)."
}

variable "secure_boot" {
  type        = bool
  description = "The OS boots under UEFI Secure Boot (its vendor's signed shim and GRUB)."
}

variable "kernel_drivers" {
  type        = list(string)
  description = "Drivers the OS's kernel has for the clouds' current machines (nvme, ena, gve, idpf, mana, ...)."
}

variable "imds_v2" {
  type        = bool
  description = "cloud-init speaks IMDSv2 (EC2's AMI requires tokens)."
}

variable "guest_os_type_vsphere" {
  type        = string
  description = "vSphere's name of the VMware guest type (the OVA's vmw:osType), e.g. centos7_64Guest."
}
