// EC2 as a fresh instance sees it: EC2's identity in SMBIOS (product_uuid and product_serial
// equal and starting with "ec2": what cloud-init's ds-identify checks), the instance metadata
// service at 169.254.169.254 with IMDSv2 tokens (v1 refused when the AMI is registered
// IMDSv2-only; a token lives its TTL, 1–21600 s, as EC2's), serving the test's public key, the
// instance id, the hostname and the network/interfaces/macs/ tree cloud-init builds the
// instance's network configuration from (an interface whose MAC is not there gets none). The
// disk is NVMe, as on Nitro instances; the firmware UEFI with a NitroTPM, under Secure Boot with
// the keys the AMI registers.
import { randomBytes } from "crypto";
import type * as http from "http";
import { cloudInitRanFrom } from "../../firstboot/cloud-init";
import { Check, Guest, VmFirstBoot, reply } from "../../firstboot/mechanism";

const TOKEN_TTL = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN = "x-aws-ec2-metadata-token";

/** EC2's per-interface tree (one interface, the primary: device-number 0), keyed by the NIC's MAC. */
function macsTree(g: Guest): Record<string, string> {
    const at = `meta-data/network/interfaces/macs/${g.mac}/`;
    const leaves: Record<string, string> = {
        "device-number": "0",
        "interface-id": `eni-${g.instanceId.slice(2, 19)}`,
        "local-hostname": g.hostname,
        "local-ipv4s": "168.0.2.15",
        mac: g.mac,
        "owner-id": "123456789012",
        "security-group-ids": "sg-0123456789abcdef0",
        "subnet-id": "subnet-0123456789abcdef0",
        "subnet-ipv4-cidr-block": "168.0.0.0/7",
        "vpc-id": "vpc-0123456789abcdef0",
        "vpc-ipv4-cidr-block": "168.0.0.0/7",
    };
    return {
        "meta-data/network/": "interfaces/",
        "meta-data/network/interfaces/": "macs/",
        "meta-data/network/interfaces/macs/": `${g.mac}/`,
        [at]: Object.keys(leaves).join("\n"),
        ...Object.fromEntries(Object.entries(leaves).map(([k, v]) => [`${at}${k}`, v])),
    };
}

/** The instance metadata tree cloud-init crawls, for one instance. */
function metadata(g: Guest): Record<string, string> {
    const doc = { instanceId: g.instanceId, region: "us-east-1", availabilityZone: "us-east-1a", instanceType: "t3.micro", imageId: "ami-0123456789abcdef0" };
    return {
        "meta-data/": "ami-id\nhostname\ninstance-id\ninstance-type\nlocal-hostname\nlocal-ipv4\nmac\nnetwork/\nplacement/\npublic-keys/",
        "meta-data/mac": g.mac,
        ...macsTree(g),
        "meta-data/ami-id": doc.imageId,
        "meta-data/hostname": g.hostname,
        "meta-data/local-hostname": g.hostname,
        "meta-data/instance-id": g.instanceId,
        "meta-data/instance-type": doc.instanceType,
        "meta-data/local-ipv4": "168.0.2.15",
        "meta-data/placement/": "availability-zone",
        "meta-data/placement/availability-zone": doc.availabilityZone,
        "meta-data/public-keys/": "0=gold-first-boot",
        "meta-data/public-keys/0/": "openssh-key",
        "meta-data/public-keys/0/openssh-key": g.publicKey,
        "dynamic/instance-identity/": "document",
        "dynamic/instance-identity/document": JSON.stringify(doc),
    };
}

// EC2's limits of a token's life (seconds).
const TTL_MIN = 1;
const TTL_MAX = 21600;

/** IMDS: PUT /latest/api/token (a TTL EC2 accepts), then GETs with a live token (or without, unless v2 only). */
export function imds(g: Guest, now: () => number = Date.now): http.RequestListener {
    const tree = metadata(g);
    const tokens = new Map<string, number>();
    return (req, res) => {
        const url = req.url ?? "";
        if (req.method === "PUT" && url === "/latest/api/token") {
            const ttl = String(req.headers[TOKEN_TTL] ?? "");
            if (!/^\d+$/.test(ttl) || Number(ttl) < TTL_MIN || Number(ttl) > TTL_MAX) return reply(res, 400, "");
            const token = `gold-${randomBytes(16).toString("base64url")}`;
            tokens.set(token, now() + Number(ttl) * 1000);
            return reply(res, 200, token, { [TOKEN_TTL]: ttl });
        }
        if (req.method !== "GET") return reply(res, 405, "");
        const given = req.headers[TOKEN];
        if (given !== undefined && !((tokens.get(String(given)) ?? 0) > now())) return reply(res, 401, "");
        if (given === undefined && g.imdsV2Only) return reply(res, 401, "");
        const m = /^\/(latest|\d{4}-\d{2}-\d{2})\/(.*)$/.exec(url);
        // A directory is asked for with or without its trailing slash.
        const value = m && (tree[m[2]] ?? tree[`${m[2]}/`]);
        return value === undefined || value === null ? reply(res, 404, "") : reply(res, 200, value);
    };
}

/** What an EC2 image needs, checked from inside the instance. */
const CONTRACT: Check[] = [
    { name: "cloud-init enabled", run: "systemctl is-enabled cloud-init.service" },
    cloudInitRanFrom("aws", "ec2", "EC2's instance metadata"),
    {
        name: "the NVMe and ENA drivers in the initramfs (ENA where the kernel has it)",
        run: {
            Debian: "l=$(lsinitramfs /boot/initrd.img-$(uname -r)); echo \"$l\" | grep -q '/nvme\\.ko' && echo \"$l\" | grep -q '/ena\\.ko'",
            RedHat: "l=$(lsinitrd /boot/initramfs-$(uname -r).img); echo \"$l\" | grep -q nvme && { ! modinfo -n ena >/dev/null 2>&1 || echo \"$l\" | grep -q '/ena\\.ko'; }",
        },
    },
    { name: "serial console and the NVMe timeout EBS needs on the kernel command line", run: "grep -q 'console=ttyS0' /proc/cmdline && grep -q 'nvme_core.io_timeout=4294967295' /proc/cmdline" },
];

export const firstBoot: VmFirstBoot = {
    kind: "vm",
    bus: "nvme",
    drivers: ["nvme", "ena"],
    // The AMI registers the keys its instances' NVRAM starts with (uefiData): the ones tested.
    registersSecureBootKeys: true,
    // cloud-init writes the key before sshd starts: a short grace only.
    graceSec: 120,
    // cloud-init reads the instance metadata and installs the key.
    wayIn: [["cloud-init.service"]],
    play: (g) => {
        const id = `ec2${g.uuid.slice(3)}`;
        return {
            user: g.defaultUser,
            login: `EC2 instance metadata (IMDSv2${g.imdsV2Only ? " only" : ", v1 allowed"}) public-keys`,
            smbios: [`type=1,manufacturer=Amazon EC2,product=t3.micro,serial=${id}`],
            uuid: id,
            services: [{ ip: "169.254.169.254", port: 80, handler: imds(g) }],
            setsHostname: true,
        };
    },
    contract: CONTRACT,
};
