// The shape of a merged build definition, checked before rendering: every value that reaches
// the kickstart is checked here, so a typo fails with its key and file instead of producing a
// kickstart anaconda stops on halfway through an install.
import { isIPv4, isIP } from "net";
import { checkPublicKey } from "./keys";

export interface Partition {
    readonly mount: string;
    readonly fstype: string;
    readonly size: number;
    readonly grow: boolean;
}

export interface BuildDefinition {
    readonly comment: string;
    readonly shutdown: "reboot" | "poweroff";
    readonly selinux: "enforcing" | "permissive" | "disabled";
    readonly firewall: { readonly enabled: boolean; readonly services: string[] };
    readonly services: { readonly enabled: string[]; readonly disabled: string[] };
    readonly bootloader: { readonly location: "mbr" | "partition" | "none"; readonly timeout: number; readonly append: string; readonly drive: string };
    readonly disk: { readonly drive: string; readonly partitions: Partition[] };
    readonly network: {
        readonly bootproto: "dhcp" | "static";
        readonly device: string;
        readonly hostname: string;
        readonly ip: string;
        readonly netmask: string;
        readonly gateway: string;
        readonly nameservers: string[];
    };
    readonly rootpw: { readonly lock: boolean; readonly hash: string };
    readonly build_key: boolean;
    readonly ssh_keys: string[];
    readonly packages: { readonly add: string[]; readonly remove: string[] };
}

const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const DEVICE_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
const DRIVE_RE = /^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/;
const MOUNT_RE = /^(\/[A-Za-z0-9_.\/-]*|swap|biosboot)$/;
const FSTYPES = ["", "xfs", "ext4", "ext3", "vfat", "efi", "biosboot", "swap"];
const KERNEL_ARGS_RE = /^[A-Za-z0-9_.,=:\/+ -]*$/;
const PACKAGE_RE = /^[A-Za-z0-9@*_.+-]+$/;
const SERVICE_RE = /^[A-Za-z0-9@_.-]+$/;
const COMMENT_RE = /^[^\u0000-\u0009\u000b-\u001f\u007f]*$/;
/** SHA-512 crypt ($6$[rounds=N$]salt$86 chars), as `openssl passwd -6` or mkpasswd make. */
const SHA512_CRYPT_RE = /^\$6\$(rounds=[0-9]{4,9}\$)?[A-Za-z0-9./]{1,16}\$[A-Za-z0-9./]{86}$/;

type Plain = Record<string, unknown>;

class Checker {
    constructor(readonly where: string) {}

    fail(key: string, why: string): never {
        throw new Error(`${this.where}: ${key} ${why}`);
    }

    map(v: unknown, key: string, keys: readonly string[]): Plain {
        if (typeof v !== "object" || v === null || Array.isArray(v)) this.fail(key, "must be a map");
        for (const k of Object.keys(v as Plain)) {
            if (key === "rootpw" && /pass|plain/i.test(k)) {
                this.fail(`${key}.${k}`, "is refused: never a plaintext password; use rootpw.hash (openssl passwd -6) or rootpw.lock");
            }
            if (!keys.includes(k)) this.fail(`${key ? key + "." : ""}${k}`, `is not a known key; known: ${keys.join(", ")}`);
        }
        for (const k of keys) if (!(k in (v as Plain))) this.fail(`${key ? key + "." : ""}${k}`, "is missing (set it in http/builds/defaults.yaml)");
        return v as Plain;
    }

    str(v: unknown, key: string, re?: RegExp): string {
        if (typeof v !== "string") this.fail(key, "must be a string");
        if (re && v !== "" && !re.test(v)) this.fail(key, `'${v}' has characters or a form that is not allowed`);
        return v;
    }

    oneOf<T extends string>(v: unknown, key: string, choices: readonly T[]): T {
        if (typeof v !== "string" || !choices.includes(v as T)) this.fail(key, `must be one of ${choices.join(", ")}`);
        return v as T;
    }

    bool(v: unknown, key: string): boolean {
        if (typeof v !== "boolean") this.fail(key, "must be true or false");
        return v;
    }

    int(v: unknown, key: string, min: number): number {
        if (typeof v !== "number" || !Number.isInteger(v) || v < min) this.fail(key, `must be a whole number >= ${min}`);
        return v;
    }

    list(v: unknown, key: string, re: RegExp): string[] {
        if (!Array.isArray(v)) this.fail(key, "must be a list");
        return v.map((x, i) => {
            if (typeof x !== "string" || !re.test(x)) this.fail(`${key}[${i}]`, `'${String(x)}' is not allowed`);
            return x;
        });
    }
}

const TOP_KEYS = ["comment", "shutdown", "selinux", "firewall", "services", "bootloader", "disk", "network", "rootpw", "build_key", "ssh_keys", "packages"];

export function checkDefinition(raw: unknown, where: string): BuildDefinition {
    const c = new Checker(where);
    const d = c.map(raw, "", TOP_KEYS);
    const fw = c.map(d.firewall, "firewall", ["enabled", "services"]);
    const sv = c.map(d.services, "services", ["enabled", "disabled"]);
    const bl = c.map(d.bootloader, "bootloader", ["location", "timeout", "append", "drive"]);
    const dk = c.map(d.disk, "disk", ["drive", "partitions"]);
    const nw = c.map(d.network, "network", ["bootproto", "device", "hostname", "ip", "netmask", "gateway", "nameservers"]);
    const pw = c.map(d.rootpw, "rootpw", ["lock", "hash"]);
    const pk = c.map(d.packages, "packages", ["add", "remove"]);

    if (!Array.isArray(dk.partitions) || dk.partitions.length === 0) c.fail("disk.partitions", "must be a non-empty list");
    const partitions = (dk.partitions as unknown[]).map((p, i): Partition => {
        const key = `disk.partitions[${i}]`;
        const m = p as Plain;
        if (typeof m !== "object" || m === null) c.fail(key, "must be a map");
        for (const k of Object.keys(m)) if (!["mount", "fstype", "size", "grow"].includes(k)) c.fail(`${key}.${k}`, "is not a known key; known: mount, fstype, size, grow");
        return {
            mount: c.str(m.mount, `${key}.mount`, MOUNT_RE) || c.fail(`${key}.mount`, "is required"),
            fstype: c.oneOf(m.fstype ?? "", `${key}.fstype`, FSTYPES),
            size: c.int(m.size, `${key}.size`, 1),
            grow: c.bool(m.grow ?? false, `${key}.grow`),
        };
    });
    if (!partitions.some((p) => p.mount === "/")) c.fail("disk.partitions", "has no '/' partition");

    const network = {
        bootproto: c.oneOf(nw.bootproto, "network.bootproto", ["dhcp", "static"] as const),
        device: c.str(nw.device, "network.device", DEVICE_RE),
        hostname: c.str(nw.hostname, "network.hostname", HOSTNAME_RE),
        ip: c.str(nw.ip, "network.ip"),
        netmask: c.str(nw.netmask, "network.netmask"),
        gateway: c.str(nw.gateway, "network.gateway"),
        nameservers: c.list(nw.nameservers, "network.nameservers", /^[0-9A-Fa-f.:]+$/),
    };
    if (!network.device) c.fail("network.device", "is required (an interface name, a MAC address, or 'link')");
    if (!network.hostname) c.fail("network.hostname", "is required");
    if (network.bootproto === "static") {
        for (const k of ["ip", "netmask", "gateway"] as const) if (!isIPv4(network[k])) c.fail(`network.${k}`, `'${network[k]}' must be an IPv4 address for a static network`);
        if (network.nameservers.length === 0) c.fail("network.nameservers", "needs at least one address for a static network");
    }
    network.nameservers.forEach((n, i) => isIP(n) || c.fail(`network.nameservers[${i}]`, `'${n}' is not an IP address`));

    const hash = c.str(pw.hash, "rootpw.hash");
    if (hash && !SHA512_CRYPT_RE.test(hash)) c.fail("rootpw.hash", "must be a SHA-512 crypt hash ($6$..., from openssl passwd -6); plaintext is never accepted");
    const lock = c.bool(pw.lock, "rootpw.lock");
    if (!hash && !lock) c.fail("rootpw", "has neither a hash nor lock: true (a root password is never plaintext)");

    const comment = c.str(d.comment, "comment", COMMENT_RE);
    return {
        comment,
        shutdown: c.oneOf(d.shutdown, "shutdown", ["reboot", "poweroff"] as const),
        selinux: c.oneOf(d.selinux, "selinux", ["enforcing", "permissive", "disabled"] as const),
        firewall: { enabled: c.bool(fw.enabled, "firewall.enabled"), services: c.list(fw.services, "firewall.services", SERVICE_RE) },
        services: { enabled: c.list(sv.enabled, "services.enabled", SERVICE_RE), disabled: c.list(sv.disabled, "services.disabled", SERVICE_RE) },
        bootloader: {
            location: c.oneOf(bl.location, "bootloader.location", ["mbr", "partition", "none"] as const),
            timeout: c.int(bl.timeout, "bootloader.timeout", 0),
            append: c.str(bl.append, "bootloader.append", KERNEL_ARGS_RE),
            drive: c.str(bl.drive, "bootloader.drive", DRIVE_RE),
        },
        disk: { drive: c.str(dk.drive, "disk.drive", DRIVE_RE), partitions },
        network,
        rootpw: { lock, hash },
        build_key: c.bool(d.build_key, "build_key"),
        ssh_keys: (Array.isArray(d.ssh_keys) ? d.ssh_keys : c.fail("ssh_keys", "must be a list")).map((k, i) =>
            checkPublicKey(typeof k === "string" ? k : c.fail(`ssh_keys[${i}]`, "must be a string"), `${where}: ssh_keys[${i}]`),
        ),
        packages: { add: c.list(pk.add, "packages.add", PACKAGE_RE), remove: c.list(pk.remove, "packages.remove", PACKAGE_RE) },
    };
}
