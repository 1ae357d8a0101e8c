# A provider's variant of a base disk built in a chroot, without booting it (variantMode
# "chroot", the default): -only=null.variant. Packer stays the orchestrator of every stage
# (packer-build.sh: one build per output, its lock, its signals, its log and checksums), but
# there is no guest to talk to, so no communicator: the ansible provisioner needs SSH to a
# machine, and what it would run is ansible-playbook with the chroot connection, which
# scripts/chroot-variant.sh runs itself (it also mounts and releases the disk). The play's
# arguments are the ones the ansible provisioner gets in build.pkr.hcl, passed as data
# (environment values, quoted by shell-local).
source "null" "chroot" {
  communicator = "none"
}

build {
  source "source.null.chroot" {
    name = "variant"
  }

  provisioner "shell-local" {
    environment_vars = [
      "GOLD_SOURCE_DISK=${var.source_disk}",
      "GOLD_SOURCE_CHECKSUM=${var.source_disk_checksum}",
      "GOLD_ARTIFACT=${local.artifact}",
      "GOLD_STAGE=variant",
      "GOLD_ANSIBLE_ARGS=${jsonencode(concat([
        "--extra-vars", jsonencode({ packer_build_name = var.build_name, packer_stage = "variant", packer_builder_type = "null" }),
        "--extra-vars", local.ansible_unsafe_vars,
      ], var.ansible_extra_args))}",
    ]
    inline = ["exec '${path.root}/../scripts/chroot-variant.sh' build '${local.out_dir}'"]
  }
}
