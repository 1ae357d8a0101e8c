// OpenStack as a fresh instance sees it, both ways Nova gives an instance its metadata (config
// `openstack.metadata` says which the image must support; each is booted):
// - a config drive: a disk labelled config-2 holding openstack/latest/meta_data.json (the
//   instance's uuid, host name and key) and network_data.json;
// - the metadata service (no config drive, as where the cloud does not force one): Nova's
//   identity in SMBIOS (product "OpenStack Nova", what cloud-init's ds-identify checks) and
//   http://169.254.169.254/openstack/<version>/… with the same documents, plus the EC2-compatible
//   tree Nova serves beside it (cloud-init's OpenStack datasource reads both).
// network_data.json names the NIC by its MAC, as Neutron's port does: cloud-init configures the
// interface with that MAC (and refuses a network config it cannot match). The disk is
// virtio-scsi, as the image's Glance properties ask (hw_disk_bus=scsi, hw_scsi_model=virtio-scsi).
import type * as http from "http";
import * as path from "path";
import { Check, Guest, VmFirstBoot, reply } from "../../firstboot/mechanism";
import { cloudInitRanFrom } from "../../firstboot/cloud-init";
import { makeIso } from "../../firstboot/media";

/** The ways Nova gives an instance its metadata. */
export const WAYS = ["config-drive", "metadata-service"] as const;
export type Way = (typeof WAYS)[number];

// The metadata versions Nova lists (cloud-init picks the newest it knows).
const VERSIONS = ["2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30", "2016-10-06", "2017-02-22", "2018-08-27", "latest"];

/** The documents of openstack/<version>/ for one instance. */
function novaDocuments(g: Guest): Record<string, string> {
    const link = `tap${g.uuid.slice(0, 11)}`;
    return {
        "meta_data.json": JSON.stringify({
            uuid: g.uuid,
            hostname: g.hostname,
            name: g.hostname.split(".")[0],
            launch_index: 0,
            availability_zone: "nova",
            project_id: "0123456789abcdef0123456789abcdef",
            public_keys: { "gold-first-boot": g.publicKey },
            keys: [{ name: "gold-first-boot", type: "ssh", data: g.publicKey }],
            devices: [],
        }),
        "network_data.json": JSON.stringify({
            links: [{ id: link, type: "ovs", vif_id: g.uuid, ethernet_mac_address: g.mac, mtu: 1500 }],
            networks: [{ id: "network0", type: "ipv4_dhcp", link, network_id: "00000000-0000-4000-8000-000000000001" }],
            services: [],
        }),
        "vendor_data.json": "{}",
        "vendor_data2.json": "{}",
    };
}

/** Nova's EC2-compatible tree (meta-data/…), which cloud-init's OpenStack datasource reads too. */
function ec2Tree(g: Guest): Record<string, string> {
    const leaves: Record<string, string> = {
        "ami-id": "ami-00000001",
        "ami-launch-index": "0",
        hostname: g.hostname,
        "instance-id": g.instanceId,
        "instance-type": "m1.small",
        "local-hostname": g.hostname,
        "local-ipv4": "168.0.2.15",
        "placement/availability-zone": "nova",
        "public-keys/0/openssh-key": g.publicKey,
    };
    return {
        "meta-data/": "ami-id\nami-launch-index\nhostname\ninstance-id\ninstance-type\nlocal-hostname\nlocal-ipv4\nplacement/\npublic-keys/",
        "meta-data/placement/": "availability-zone",
        "meta-data/public-keys/": "0=gold-first-boot",
        "meta-data/public-keys/0/": "openssh-key",
        ...Object.fromEntries(Object.entries(leaves).map(([k, v]) => [`meta-data/${k}`, v])),
    };
}

/** Nova's metadata service for one instance: GETs only; no user data (404, as Nova's). */
export function metadataService(g: Guest): http.RequestListener {
    const docs = novaDocuments(g);
    const ec2 = ec2Tree(g);
    return (req, res) => {
        if (req.method !== "GET") return reply(res, 405, "");
        const url = (req.url ?? "").replace(/\/+$/, "");
        if (url === "/openstack") return reply(res, 200, VERSIONS.join("\n"));
        const os = /^\/openstack\/([^/]+)\/([^/]+)$/.exec(url);
        if (os) return VERSIONS.includes(os[1]) && docs[os[2]] !== undefined ? reply(res, 200, docs[os[2]]) : reply(res, 404, "");
        const e = /^\/(latest|\d{4}-\d{2}-\d{2})\/(meta-data.*)$/.exec(req.url ?? "");
        const value = e && (ec2[e[2]] ?? ec2[`${e[2]}/`]);
        return value ? reply(res, 200, value) : reply(res, 404, "");
    };
}

/** Each way's own check: cloud-init found its metadata there (and the other way's fails: a control). */
const ranFrom: Record<Way, Check> = {
    "config-drive": cloudInitRanFrom("configdrive", "configdrive", "the config drive"),
    "metadata-service": cloudInitRanFrom("openstack", "openstack", "the OpenStack metadata service"),
};

/** What an OpenStack image needs whichever way it gets its metadata. */
const CONTRACT: Check[] = [
    { name: "cloud-init enabled", run: "systemctl is-enabled cloud-init.service" },
    { name: "acpid enabled (Nova's soft reboot and shutdown)", run: "systemctl is-enabled acpid" },
    { name: "growpart for cloud-init's root growth", run: "command -v growpart" },
    { name: "serial console on the kernel command line", run: "grep -q 'console=ttyS0' /proc/cmdline" },
];

export const firstBoot: VmFirstBoot = {
    kind: "vm",
    tools: ["genisoimage"],
    bus: "scsi",
    drivers: ["virtio_scsi"],
    graceSec: 120,
    // cloud-init reads the metadata and installs the key.
    wayIn: [["cloud-init.service"]],
    ways: WAYS,
    play: async (g, way) => {
        const docs = novaDocuments(g);
        // Nova's libvirt driver gives every instance this identity, config drive or not.
        const smbios = [`type=1,manufacturer=OpenStack Foundation,product=OpenStack Nova,serial=${g.uuid},family=Virtual Machine`];
        if (way === "metadata-service") {
            return {
                user: g.defaultUser,
                login: "OpenStack metadata service (169.254.169.254, no config drive) public_keys",
                smbios,
                services: [{ ip: "169.254.169.254", port: 80, handler: metadataService(g) }],
                setsHostname: true,
                checks: [ranFrom["metadata-service"]],
                controls: [ranFrom["config-drive"]],
            };
        }
        return {
            user: g.defaultUser,
            login: "OpenStack config drive (config-2) public_keys",
            smbios,
            cdroms: [await makeIso(path.join(g.work, "config-drive.iso"), "config-2", Object.fromEntries(Object.entries(docs).map(([f, text]) => [`openstack/latest/${f}`, text])))],
            setsHostname: true,
            checks: [ranFrom["config-drive"]],
            controls: [ranFrom["metadata-service"]],
        };
    },
    contract: CONTRACT,
};
