// The shape of a merged build definition, checked before rendering: every value that reaches
// the kickstart is checked here, so a typo fails with its key and file instead of producing a
// kickstart anaconda stops on halfway through an install.
import { isIP, isIPv4 } from "net";
import { z } from "zod";
import { BuildType, printable } from "./definitions";
import { checkPublicKey } from "./keys";

const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const DEVICE_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
const DRIVE_RE = /^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/;
const MOUNT_RE = /^(\/[A-Za-z0-9_.\/-]*|swap|biosboot)$/;
const FSTYPES = ["", "xfs", "ext4", "ext3", "vfat", "efi", "biosboot", "swap"] as const;
const KERNEL_ARGS_RE = /^[A-Za-z0-9_.,=:\/+ -]*$/;
const PACKAGE_RE = /^[A-Za-z0-9@*_.+-]+$/;
const SERVICE_RE = /^[A-Za-z0-9@_.-]+$/;
const COMMENT_RE = /^[^\u0000-\u0009\u000b-\u001f\u007f]*$/;
/** SHA-512 crypt ($6$[rounds=N$]salt$86 chars), as `openssl passwd -6` or mkpasswd make. */
const SHA512_CRYPT_RE = /^\$6\$(rounds=[0-9]{4,9}\$)?[A-Za-z0-9./]{1,16}\$[A-Za-z0-9./]{86}$/;

const quoted = (v: unknown) => `'${printable(String(v))}'`;
/** A string: empty, or matching `re`. */
const str = (re?: RegExp) =>
    z.string({ error: "must be a string" }).refine((v) => !re || v === "" || re.test(v), { error: (iss) => `${quoted(iss.input)} has characters or a form that is not allowed` });
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `must be one of ${values.join(", ")}` });
const bool = () => z.boolean({ error: "must be true or false" });
const int = (min: number) => z.number({ error: `must be a whole number >= ${min}` }).int({ error: `must be a whole number >= ${min}` }).min(min, { error: `must be a whole number >= ${min}` });
const names = (re: RegExp) => z.array(z.string({ error: "is not allowed" }).regex(re, { error: (iss) => `${quoted(iss.input)} is not allowed` }), { error: "must be a list" });
const map = <S extends z.core.$ZodLooseShape>(shape: S) =>
    z.strictObject(shape, { error: (iss) => (iss.code === "unrecognized_keys" ? `is not a known key; known: ${Object.keys(shape).join(", ")}` : "must be a map") });

const PARTITION = map({
    mount: z.string({ error: "is required" }).min(1, { error: "is required" }).regex(MOUNT_RE, { error: (iss) => `${quoted(iss.input)} has characters or a form that is not allowed` }),
    fstype: oneOf(FSTYPES).default(""),
    size: int(1),
    grow: bool().default(false),
});

const NETWORK = map({
    bootproto: oneOf(["dhcp", "static"]),
    device: str(DEVICE_RE).refine((v) => v !== "", { error: "is required (an interface name, a MAC address, or 'link')" }),
    hostname: str(HOSTNAME_RE).refine((v) => v !== "", { error: "is required" }),
    ip: str(),
    netmask: str(),
    gateway: str(),
    nameservers: z.array(
        z.string({ error: "is not allowed" }).refine((n) => isIP(n) !== 0, { error: (iss) => `${quoted(iss.input)} is not an IP address` }),
        { error: "must be a list" },
    ),
}).superRefine((n, ctx) => {
    if (n.bootproto !== "static") return;
    for (const k of ["ip", "netmask", "gateway"] as const) {
        if (!isIPv4(n[k])) ctx.addIssue({ code: "custom", path: [k], message: `${quoted(n[k])} must be an IPv4 address for a static network` });
    }
    if (n.nameservers.length === 0) ctx.addIssue({ code: "custom", path: ["nameservers"], message: "needs at least one address for a static network" });
});

const ROOTPW = z
    .looseObject({
        lock: bool(),
        hash: str().refine((h) => h === "" || SHA512_CRYPT_RE.test(h), {
            error: "must be a SHA-512 crypt hash ($6$..., from openssl passwd -6); plaintext is never accepted",
        }),
    }, { error: "must be a map" })
    .superRefine((pw, ctx) => {
        for (const k of Object.keys(pw)) {
            if (/pass|plain/i.test(k)) ctx.addIssue({ code: "custom", path: [k], message: "is refused: never a plaintext password; use rootpw.hash (openssl passwd -6) or rootpw.lock" });
            else if (!["lock", "hash"].includes(k)) ctx.addIssue({ code: "custom", path: [k], message: "is not a known key; known: lock, hash" });
        }
        if (!pw.hash && !pw.lock) ctx.addIssue({ code: "custom", path: [], message: "has neither a hash nor lock: true (a root password is never plaintext)" });
    });

const DEFINITION = map({
    comment: str(COMMENT_RE),
    shutdown: oneOf(["reboot", "poweroff"]),
    selinux: oneOf(["enforcing", "permissive", "disabled"]),
    firewall: map({ enabled: bool(), services: names(SERVICE_RE) }),
    services: map({ enabled: names(SERVICE_RE), disabled: names(SERVICE_RE) }),
    bootloader: map({ location: oneOf(["mbr", "partition", "none"]), timeout: int(0), append: str(KERNEL_ARGS_RE), drive: str(DRIVE_RE) }),
    disk: map({
        drive: str(DRIVE_RE),
        partitions: z
            .array(PARTITION, { error: "must be a non-empty list" })
            .min(1, { error: "must be a non-empty list" })
            .refine((ps) => ps.some((p) => p.mount === "/"), { error: "has no '/' partition" }),
    }),
    network: NETWORK,
    rootpw: ROOTPW,
    build_key: bool(),
    clients: map({
        ips: z.array(z.string({ error: "is not allowed" }).refine((a) => isIP(a) !== 0, { error: (iss) => `${quoted(iss.input)} is not an IP address` }), { error: "must be a list" }),
        macs: names(/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/),
    }),
    ssh_keys: z.array(z.string({ error: "must be a string" }), { error: "must be a list" }),
    packages: map({ add: names(PACKAGE_RE), remove: names(PACKAGE_RE) }),
});

export type BuildDefinition = Readonly<z.infer<typeof DEFINITION>>;
export type Partition = BuildDefinition["disk"]["partitions"][number];

/** "disk.partitions[0].mount" */
function keyOf(path: readonly PropertyKey[]): string {
    return path.reduce<string>((s, k) => (typeof k === "number" ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), "");
}

/**
 * A virtual build's disk becomes an image that clouds put on larger disks: cloud-init's growpart
 * extends the last partition, and anaconda places growing partitions after fixed-size ones, so
 * "/" must be the one partition that grows.
 */
function imageDiskProblem(def: BuildDefinition): string | undefined {
    const growing = def.disk.partitions.filter((p) => p.grow).map((p) => p.mount);
    if (growing.length === 1 && growing[0] === "/") return undefined;
    return `disk.partitions: in a virtual build, '/' must be the only partition with grow: true (it then ends the disk, where cloud-init's growpart extends it); growing: ${growing.join(", ") || "none"}`;
}

export function checkDefinition(raw: unknown, where: string, type: BuildType): BuildDefinition {
    const r = DEFINITION.safeParse(raw, { reportInput: true });
    if (!r.success) {
        const issue = r.error.issues[0];
        let key = keyOf(issue.path);
        let message = issue.message;
        if (issue.code === "unrecognized_keys") {
            key = keyOf([...issue.path, issue.keys[0]]);
        } else if (issue.code === "invalid_type" && issue.input === undefined) {
            message = "is missing (set it in http/builds/defaults.yaml)";
        }
        throw new Error(`${where}: ${key} ${message}`);
    }
    const def = r.data;
    const imageDisk = type === "virtual" ? imageDiskProblem(def) : undefined;
    if (imageDisk) throw new Error(`${where}: ${imageDisk}`);
    return { ...def, ssh_keys: def.ssh_keys.map((k, i) => checkPublicKey(k, `${where}: ssh_keys[${i}]`)) };
}
