locals {
  # The seed's artifact layout: artifacts/<version>/<vm_name>/<build>/<vm_name>-<version>_<build>.<ext>,
  # where the build is "base" (the OS install) or a provider. The Pulumi program's builds set
  # version to "": they name no version (<vm_name>_<build>), since one build serves every
  # version of its recipe (the version is in the names its publishers give).
  artifact = var.version != "" ? "${var.vm_name}-${var.version}_${var.build_name}" : "${var.vm_name}_${var.build_name}"
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

  # Site and OS values reach Ansible tagged !unsafe: Ansible templates extra vars (a value
  # holding "{{ ... }}" would run on the build host) unless they are tagged so. JSON cannot
  # carry the tag: this is a YAML flow mapping, each value a JSON string (valid YAML).
  ansible_site_vars = {
    packer_namespace   = var.namespace
    packer_locale      = var.locale
    packer_keyboard    = var.keyboard
    packer_timezone    = var.timezone
    packer_repo_server = var.repo_server
  }
  ansible_os_strings = { for k, v in local.packer_os : k => v if k != "os_major" && k != "extra_repos" }
  ansible_unsafe_vars = format(
    "{%s, \"packer_os\": {%s, \"os_major\": %d, \"extra_repos\": {%s}}, \"provider_vars\": {%s}}",
    join(", ", [for k, v in local.ansible_site_vars : "${jsonencode(k)}: !unsafe ${jsonencode(v)}"]),
    join(", ", [for k, v in local.ansible_os_strings : "${jsonencode(k)}: !unsafe ${jsonencode(v)}"]),
    var.os_major,
    join(", ", [for k, v in local.packer_os.extra_repos : "${jsonencode(k)}: !unsafe ${jsonencode(v)}"]),
    join(", ", [for k, v in var.provider_vars : "${jsonencode(k)}: !unsafe ${jsonencode(v)}"]),
  )

  # A QEMU build's network (a -netdev of our own replaces Packer's default one): restricted,
  # so the guest reaches no address of its choosing (no host port, no metadata service, no
  # DNS); Packer's SSH forward from loopback (1.6.6 would listen on all interfaces); and two
  # ways in, each connection relayed by bash: the build proxy at 10.0.2.100:3128 (its allow
  # list: scripts/build-proxy.ts) and, for an install, Packer's HTTP server at 10.0.2.101
  # (QEMU refuses a guest forward on 10.0.2.2, the address {{ .HTTPIP }} gives).
  guest_proxy  = var.build_proxy_port > 0 ? "http://10.0.2.100:3128" : ""
  guest_http   = "10.0.2.101"
  relay        = "bash -c 'exec 3<>/dev/tcp/127.0.0.1/%s; cat <&3 & exec cat >&3'"
  netdev       = "user,id=user.0,restrict=on,hostfwd=tcp:127.0.0.1:{{ .SSHHostPort }}-:22${var.build_proxy_port > 0 ? ",guestfwd=tcp:10.0.2.100:3128-cmd:${format(local.relay, var.build_proxy_port)}" : ""}"
  netdev_disk  = [["-netdev", local.netdev]]
  netdev_iso   = [["-netdev", "${local.netdev},guestfwd=tcp:${local.guest_http}:{{ .HTTPPort }}-cmd:${format(local.relay, "{{ .HTTPPort }}")}"]]
  boot_command = [for c in var.boot_command : replace(c, "{{ .HTTPIP }}", local.guest_http)]

  # A non-root build user (e.g. a vendor cloud image) runs the scripts through sudo.
  script_command = var.ssh_username == "root" ? "chmod +x {{ .Path }}; {{ .Vars }} {{ .Path }}" : "chmod +x {{ .Path }}; sudo -E env {{ .Vars }} {{ .Path }}"
}
