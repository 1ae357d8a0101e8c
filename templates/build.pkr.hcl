# One build, one named source per kind of build:
#   base       OS install from ISO + kickstart (role base)                -only=qemu.base
#   base-disk  base from an existing disk image (var.source_disk)         -only=qemu.base-disk
#   variant    a provider's variant of a base disk (var.build_name)       -only=qemu.variant
#   iso        the seed's full ISO build of one provider (var.build_name), with the builder the
#              seed used for it: -only=qemu.iso, -only=virtualbox-iso.iso or -only=vmware-iso.iso
build {
  source "source.qemu.iso" {
    name             = "base"
    vm_name          = "${local.artifact}.qcow2"
    output_directory = local.out_dir
  }

  source "source.qemu.disk" {
    name             = "base-disk"
    vm_name          = "${local.artifact}.qcow2"
    output_directory = local.out_dir
  }

  source "source.qemu.disk" {
    name             = "variant"
    vm_name          = "${local.artifact}.qcow2"
    output_directory = local.out_dir
  }

  source "source.qemu.iso" {
    name             = "iso"
    vm_name          = "${local.artifact}.qcow2"
    output_directory = local.out_dir
  }

  # OVF + VMDK: the conversion reads the VMDK.
  source "source.virtualbox-iso.iso" {
    name             = "iso"
    vm_name          = local.artifact
    output_directory = local.out_dir
  }

  source "source.vmware-iso.iso" {
    name             = "iso"
    vm_name          = local.artifact
    output_directory = local.out_dir
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
        packer_build_name = lookup(local.build_name, source.name, var.build_name)
        packer_stage      = lookup(local.stage, source.name, "full")
        gold_build_proxy  = local.guest_proxy
      }),
      "--extra-vars", local.ansible_unsafe_vars,
    ], var.ansible_extra_args)
  }

  provisioner "shell" {
    execute_command  = local.script_command
    environment_vars = ["GOLD_STAGE=${lookup(local.stage, source.name, "full")}"]
    scripts          = ["${path.root}/../scripts/cleanup.sh", "${path.root}/../scripts/zero.sh"]
  }
}
