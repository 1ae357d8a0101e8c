# One build, one named source per build of the seed:
#   base       OS install from ISO + kickstart (role base)            -only=qemu.base
#   base-disk  base from an existing disk image (var.source_disk)     -only=qemu.base-disk
#   variant    a provider's variant of a base disk (var.build_name)   -only=qemu.variant
#   aws, virtualbox, vmware, azure, docker, gcp, openstack: the seed's full ISO build per provider.
build {
  source "source.qemu.iso" {
    name             = "base"
    vm_name          = "${local.artifact["base"]}.qcow2"
    output_directory = local.out_dir["base"]
  }

  source "source.qemu.disk" {
    name             = "base-disk"
    vm_name          = "${local.artifact["base"]}.qcow2"
    output_directory = local.out_dir["base"]
  }

  source "source.qemu.disk" {
    name             = "variant"
    vm_name          = "${local.artifact[var.build_name]}.qcow2"
    output_directory = local.out_dir[var.build_name]
  }

  source "source.virtualbox-iso.iso" {
    name             = "aws"
    vm_name          = local.artifact["aws"]
    output_directory = local.out_dir["aws"]
    format           = "ova"
  }

  source "source.virtualbox-iso.iso" {
    name             = "virtualbox"
    vm_name          = local.artifact["virtualbox"]
    output_directory = local.out_dir["virtualbox"]
  }

  source "source.vmware-iso.iso" {
    name             = "vmware"
    vm_name          = local.artifact["vmware"]
    output_directory = local.out_dir["vmware"]
  }

  source "source.qemu.iso" {
    name             = "azure"
    vm_name          = "${local.artifact["azure"]}.qcow2"
    output_directory = local.out_dir["azure"]
  }

  source "source.qemu.iso" {
    name             = "docker"
    vm_name          = "${local.artifact["docker"]}.qcow2"
    output_directory = local.out_dir["docker"]
  }

  source "source.qemu.iso" {
    name             = "gcp"
    vm_name          = "${local.artifact["gcp"]}.qcow2"
    output_directory = local.out_dir["gcp"]
  }

  source "source.qemu.iso" {
    name             = "openstack"
    vm_name          = "${local.artifact["openstack"]}.qcow2"
    output_directory = local.out_dir["openstack"]
  }

  provisioner "ansible" {
    playbook_file = "${path.root}/../ansible/site.yml"
    user          = var.ssh_username
    use_proxy     = false
    ansible_env_vars = [
      "ANSIBLE_CONFIG=${path.root}/../ansible/ansible.cfg",
      "ANSIBLE_HOST_KEY_CHECKING=False",
    ]
    extra_arguments = concat([
      "--extra-vars", jsonencode({
        packer_build_name  = lookup(local.build_name, source.name, source.name)
        packer_stage       = lookup(local.stage, source.name, "full")
        packer_os          = local.packer_os
        packer_namespace   = var.namespace
        packer_version     = var.version
        packer_locale      = var.locale
        packer_keyboard    = var.keyboard
        packer_timezone    = var.timezone
        packer_repo_server = var.repo_server
      }),
    ], var.ansible_extra_args)
  }

  provisioner "shell" {
    execute_command  = local.script_command
    environment_vars = ["GOLD_STAGE=${lookup(local.stage, source.name, "full")}"]
    scripts          = ["${path.root}/../scripts/cleanup.sh", "${path.root}/../scripts/zero.sh"]
  }

  post-processor "vagrant" {
    only                 = ["virtualbox-iso.virtualbox"]
    output               = "${local.out_dir["virtualbox"]}/${local.artifact["virtualbox"]}.box"
    keep_input_artifact  = true
    compression_level    = 9
    vagrantfile_template = "${path.root}/vagrant/Vagrantfile"
  }
}
