#!/usr/bin/env bash
# The Debian 12 packages the stages and the tests run, installed as root: one list for CI
# (.ci/run) and for the workflow's build jobs (.github/actions/build-tools, a debian:12 container).
#   scripts/install-tools.sh
# packer: templates; qemu-utils: disks and conversions; ansible, ansible-lint: roles;
# the shellcheck package: scripts; openssh-client: build keys; libguestfs-tools + linux-image-amd64: the
# offline reads and the docker rootfs (guestfish needs a kernel; lzop: the rootfs out of it); vagrant: the catalog checked by
# `vagrant box add`; e2fsprogs, fdisk: test filesystems and the end-to-end base disk; mmdebstrap,
# eatmydata, zstd: the Debian base disk (and its cache); debootstrap: the boot-support test's
# root tree; qemu-system-x86: the builds and first-boot tests; genisoimage: the clouds'
# provisioning media (config drive, ovf-env.xml); podman: the docker image's first run;
# iproute2: the listeners test (ss), a chroot build's network namespace (ip); git: the fresh-clone test; dosfstools: the base disk's EFI
# system partition; ovmf, swtpm: UEFI first boots (Secure Boot, a TPM); util-linux, kmod: loop
# devices and mounts of the chroot variants; jq: the workflow's matrix, dry-run by its test.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq packer qemu-utils qemu-system-x86 ansible ansible-lint shellcheck \
    openssh-client libguestfs-tools linux-image-amd64 lzop vagrant e2fsprogs fdisk tar debootstrap mmdebstrap eatmydata zstd \
    genisoimage podman iproute2 git dosfstools ovmf swtpm util-linux kmod jq >/dev/null
