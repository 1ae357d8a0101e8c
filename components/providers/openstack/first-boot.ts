// OpenStack as a fresh instance sees it with a config drive: a disk labelled config-2 holding
// openstack/latest/meta_data.json (the instance's uuid, host name and key). The disk is
// virtio-scsi, as the image's Glance properties ask (hw_disk_bus=scsi, hw_scsi_model=virtio-scsi).
import * as path from "path";
import { Check, VmFirstBoot } from "../../firstboot/mechanism";
import { cloudInitRanFrom } from "../../firstboot/cloud-init";
import { makeIso } from "../../firstboot/media";

const CONTRACT: Check[] = [
    { name: "cloud-init enabled", run: "systemctl is-enabled cloud-init.service" },
    cloudInitRanFrom("configdrive", "configdrive", "the config drive"),
    { name: "acpid enabled (Nova's soft reboot and shutdown)", run: "systemctl is-enabled acpid" },
    { name: "growpart for cloud-init's root growth", run: "command -v growpart" },
    { name: "serial console on the kernel command line", run: "grep -q 'console=ttyS0' /proc/cmdline" },
];

export const firstBoot: VmFirstBoot = {
    kind: "vm",
    tools: ["genisoimage"],
    bus: "scsi",
    graceSec: 120,
    // cloud-init reads the config drive and installs the key.
    wayIn: [["cloud-init.service"]],
    play: async (g) => ({
        user: g.defaultUser,
        login: "OpenStack config drive (config-2) public_keys",
        cdroms: [
            await makeIso(path.join(g.work, "config-drive.iso"), "config-2", {
                "openstack/latest/meta_data.json": JSON.stringify({ uuid: g.uuid, hostname: g.hostname, name: g.hostname.split(".")[0], public_keys: { "gold-first-boot": g.publicKey } }),
            }),
        ],
        setsHostname: true,
    }),
    contract: CONTRACT,
};
