# Shared machine settings per builder; build.pkr.hcl names one source per build.

# OS install from the ISO with the kickstart served by Packer's HTTP server, on loopback:
# the guest reaches it at 10.0.2.101, forwarded to it (locals.pkr.hcl: the build network).
source "qemu" "iso" {
  iso_urls           = local.iso_urls
  iso_checksum       = var.iso_checksum
  http_directory     = var.http_directory
  http_bind_address  = "127.0.0.1"
  boot_command       = local.boot_command
  boot_wait          = var.boot_wait
  accelerator        = var.accelerator
  headless           = var.headless
  memory             = var.memory
  cpus               = var.cpus
  disk_size          = var.disk_size
  format             = "qcow2"
  disk_interface     = "virtio"
  net_device         = "virtio-net"
  disk_discard       = "unmap"
  disk_detect_zeroes = "unmap"
  qemuargs           = concat(local.netdev_iso, var.qemuargs)

  communicator         = "ssh"
  ssh_username         = var.ssh_username
  ssh_private_key_file = var.ssh_private_key_file
  ssh_timeout          = var.ssh_timeout
  host_port_min        = 2222
  host_port_max        = 4444
  vnc_bind_address     = "127.0.0.1"
  shutdown_command     = "shutdown -P now"
}

# Boots an existing disk: the base of a variant, or a vendor image as a base.
source "qemu" "disk" {
  disk_image         = true
  use_backing_file   = false
  iso_url            = var.source_disk
  iso_checksum       = var.source_disk_checksum
  boot_wait          = "1s"
  accelerator        = var.accelerator
  headless           = var.headless
  memory             = var.memory
  cpus               = var.cpus
  disk_size          = var.disk_size
  format             = "qcow2"
  disk_interface     = "virtio"
  net_device         = "virtio-net"
  disk_discard       = "unmap"
  disk_detect_zeroes = "unmap"
  qemuargs           = concat(local.netdev_disk, var.qemuargs)

  communicator         = "ssh"
  ssh_username         = var.ssh_username
  ssh_private_key_file = var.ssh_private_key_file
  ssh_timeout          = var.ssh_timeout
  host_port_min        = 2222
  host_port_max        = 4444
  vnc_bind_address     = "127.0.0.1"
  shutdown_command     = "shutdown -P now"
}

# The seed's way for the providers it built with VirtualBox.
source "virtualbox-iso" "iso" {
  iso_urls             = local.iso_urls
  iso_checksum         = var.iso_checksum
  guest_os_type        = var.guest_os_type_virtualbox
  http_directory       = var.http_directory
  boot_command         = var.boot_command
  boot_wait            = var.boot_wait
  headless             = var.headless
  memory               = var.memory
  cpus                 = var.cpus
  disk_size            = var.disk_size
  hard_drive_interface = "sata"
  guest_additions_mode = "disable"

  communicator         = "ssh"
  ssh_username         = var.ssh_username
  ssh_private_key_file = var.ssh_private_key_file
  ssh_timeout          = var.ssh_timeout
  host_port_min        = 2222
  host_port_max        = 4444
  shutdown_command     = "shutdown -P now"
}

# The seed's way for the providers it built with VMware; the conversion makes the OVA (ovftool is not free).
source "vmware-iso" "iso" {
  iso_urls       = local.iso_urls
  iso_checksum   = var.iso_checksum
  guest_os_type  = var.guest_os_type_vmware
  http_directory = var.http_directory
  boot_command   = var.boot_command
  boot_wait      = var.boot_wait
  headless       = var.headless
  memory         = var.memory
  cpus           = var.cpus
  disk_size      = var.disk_size
  disk_type_id   = "0"

  communicator         = "ssh"
  ssh_username         = var.ssh_username
  ssh_private_key_file = var.ssh_private_key_file
  ssh_timeout          = var.ssh_timeout
  shutdown_command     = "shutdown -P now"
}
