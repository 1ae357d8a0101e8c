locals {
  # The seed's artifact layout: artifacts/<version>/<vm_name>/<build>/<vm_name>-<version>_<build>.<ext>,
  # where the build is "base" (the OS install) or a provider.
  artifact = "${var.vm_name}-${var.version}_${var.build_name}"
  out_dir  = var.output_dir != "" ? var.output_dir : "${var.artifacts_dir}/${var.version}/${var.vm_name}/${var.build_name}"

  # The site mirror first (the only source of RHEL ISOs), then the public URL.
  iso_urls = compact([var.iso_server != "" ? "${var.iso_server}/${var.iso_name}" : "", var.iso_url])

  # Which role and stage each named source runs (see ansible/site.yml); "iso" runs them all.
  build_name = { base = "base", base-disk = "base" }
  stage      = { base = "base", base-disk = "base", variant = "variant" }

  # OS files may name the site mirror as {{ repo_server }}; Packer would read that as a
  # template call, so it is resolved here before reaching the ansible provisioner.
  packer_os = {
    vm_name     = var.vm_name
    os_name     = var.os_name
    os_version  = var.os_version
    os_major    = var.os_major
    iso_name    = var.iso_name
    install_url = replace(var.install_url, "{{ repo_server }}", var.repo_server)
    extra_repos = { for k, v in var.extra_repos : k => replace(v, "{{ repo_server }}", var.repo_server) }
  }

  # A non-root build user (e.g. a vendor cloud image) runs the scripts through sudo.
  script_command = var.ssh_username == "root" ? "chmod +x {{ .Path }}; {{ .Vars }} {{ .Path }}" : "chmod +x {{ .Path }}; sudo -E env {{ .Vars }} {{ .Path }}"
}
