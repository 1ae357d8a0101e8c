packer {
  # 1.6.6 (Debian 12) is the oldest Packer these templates are tested with.
  required_version = ">= 1.6.6"
}
