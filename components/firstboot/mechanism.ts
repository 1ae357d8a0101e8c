// What a provider declares for its first-boot test (components/providers/<name>/first-boot.ts):
// how its cloud gives a fresh machine its user's key (played here: identity in SMBIOS, metadata
// servers, provisioning media), which user that is, and its contract: checks, as data, that
// a machine of that cloud needs to pass once a user is in.
import type { ToolId } from "../doctor";
import type * as http from "http";
import type { Log } from "../progress";
import type { Driver, Firmware } from "../recipe/os";
import type { DiskBus } from "./vm";

/**
 * How a machine of a provider's cloud boots one OS's image: what its publisher declares to the
 * cloud (AMI boot mode, Hyper-V generation and security type, guest OS features, OVF firmware)
 * and what its first-boot test boots (SeaBIOS, or OVMF with Microsoft's keys and a TPM).
 */
export interface BootMode {
    readonly firmware: Firmware;
    /** UEFI Secure Boot on (Microsoft's keys enrolled); only with firmware "uefi". */
    readonly secureBoot: boolean;
    /** A TPM 2.0 (NitroTPM, Trusted Launch's vTPM, Shielded VM's vTPM). */
    readonly tpm: boolean;
}

/** The boot of a machine without UEFI: the BIOS path of a hybrid disk, the only one of a BIOS disk. */
export const BIOS: BootMode = { firmware: "bios", secureBoot: false, tpm: false };

/** The boot modes a first boot can play, as the first-boot command's --boot names them. */
export const BOOT_NAMES = ["bios", "uefi", "uefi+tpm", "uefi+secure-boot", "uefi+secure-boot+tpm"] as const;

/** A boot mode's name: "bios", "uefi", then "+secure-boot", "+tpm". */
export function bootName(mode: BootMode): string {
    return mode.firmware === "bios" ? "bios" : ["uefi", ...(mode.secureBoot ? ["secure-boot"] : []), ...(mode.tpm ? ["tpm"] : [])].join("+");
}

/** The boot mode a name (one of BOOT_NAMES) stands for. */
export function bootFromName(name: string): BootMode {
    if (!(BOOT_NAMES as readonly string[]).includes(name)) throw new Error(`'${name}' is no boot mode; valid choices: ${BOOT_NAMES.join(", ")}`);
    const parts = name.split("+");
    return { firmware: parts[0] as Firmware, secureBoot: parts.includes("secure-boot"), tpm: parts.includes("tpm") };
}

/** What an image may carry by its cloud's own convention (Vagrant's insecure key and sudo). */
export interface Baked {
    /** Public keys (their base64 bodies) that may be in authorized_keys files. */
    readonly keys?: readonly string[];
    /** Users whose passwordless sudo is the convention (their sudoers line). */
    readonly nopasswdUsers?: readonly string[];
}

/** A check run in the guest as root (through sudo when the user is not root): exit 0 passes. */
export interface Check {
    readonly name: string;
    /** A shell command; per OS family when they differ. */
    readonly run: string | { readonly Debian: string; readonly RedHat: string };
}

/** What the test knows of the machine it starts: the cloud tells the guest these. */
export interface Guest {
    /** The public half of the test's own key pair, made for this test only. */
    readonly publicKey: string;
    readonly hostname: string;
    readonly instanceId: string;
    /** A UUID for SMBIOS (cloud-init keys first boot on the instance id). */
    readonly uuid: string;
    /** A scratch directory of this test (media are made here). */
    readonly work: string;
    /** The user cloud-init makes by default on this OS (the OS file's cloud_user). */
    readonly defaultUser: string;
    /** The OS gets the instance metadata with IMDSv2 tokens only (the AMI is registered so). */
    readonly imdsV2Only: boolean;
    /** The NIC's MAC address, unique per machine as every cloud gives it (aa:bb:…, lowercase). */
    readonly mac: string;
}

/** A metadata service the test serves on loopback, as `ip:port` in the guest's network. */
export interface Service {
    readonly ip: string;
    readonly port: number;
    readonly handler: http.RequestListener;
}

/** How the cloud was played for one boot. */
export interface Played {
    /** The user the cloud's mechanism makes, and who logs in with the test's key. */
    readonly user: string;
    /** How the key reached the guest, for the report (e.g. "EC2 IMDSv2 public-keys"). */
    readonly login: string;
    readonly smbios?: readonly string[];
    /** The machine's UUID when the cloud's identity needs one of its own (EC2's "ec2…"). */
    readonly uuid?: string;
    readonly services?: readonly Service[];
    /** The host name the network's DHCP gives the guest (GCE's way). */
    readonly dhcpHostname?: string;
    /** Provisioning media (ISO files) attached as CD-ROMs. */
    readonly cdroms?: readonly string[];
    /** A private key of the cloud's own to log in with instead of the test's (Vagrant's). */
    readonly key?: string;
    /** Whether the cloud names the machine (its hostname is then checked). */
    readonly setsHostname: boolean;
    /** Checks of what the guest told the played cloud (Azure's Ready report), after the guest's own. */
    readonly hostChecks?: () => Promise<CheckResult[]>;
    /** Groups whose passwordless sudo is the cloud's way (GCE's google-sudoers). */
    readonly sudoGroups?: readonly string[];
    /** Checks of this way of the cloud's (the datasource cloud-init found), after the contract. */
    readonly checks?: readonly Check[];
    /** Checks that must FAIL in this boot: the other ways' own checks, each shown able to fail. */
    readonly controls?: readonly Check[];
}

/** A virtual machine's first boot. */
export interface VmFirstBoot {
    readonly kind: "vm";
    /** The disk controller the cloud (or the artifact's descriptor) gives the disk. */
    readonly bus: DiskBus;
    /** The disk controller of the cloud's UEFI machines, where it differs (Azure's Gen2 v6: NVMe). */
    readonly uefiBus?: DiskBus;
    /** Kernel drivers the cloud's current machines need: each the OS's kernel has is checked in the image. */
    readonly drivers?: readonly Driver[];
    /**
     * The cloud registers the firmware's Secure Boot variables with the image (EC2's uefiData):
     * a Secure Boot test's result carries the ones its machine started with, for the publisher.
     */
    readonly registersSecureBootKeys?: boolean;
    /** Seconds after sshd answers that the cloud's agent may take to let the user in. */
    readonly graceSec: number;
    /**
     * The ways its cloud may give a new machine its metadata (OpenStack: a config drive or the
     * metadata service); the image is booted once per way it must support, each `play`ed.
     */
    readonly ways?: readonly string[];
    readonly play: (guest: Guest, way?: string) => Promise<Played> | Played;
    /** The provider's contract, checked once logged in. */
    readonly contract: readonly Check[];
    /** What the image may carry by the cloud's convention (Vagrant's insecure key, its sudo). */
    readonly baked?: Baked;
    /**
     * The services that let the user in at the first boot, each as its names (one must be
     * enabled; they differ by OS family): read offline, so an image with them off is refused
     * before a boot that could only time out.
     */
    readonly wayIn?: readonly (readonly string[])[];
    /** Checks of the artifact itself, on the host (e.g. the box's Vagrantfile). */
    readonly checkArtifact?: (artifact: string, work: string) => Promise<void>;
    /** What playing this cloud needs on the host beyond QEMU and ssh-keygen (the doctor's checks). */
    readonly tools?: readonly ToolId[];
}

/** A container image's first run. */
export interface ContainerFirstBoot {
    readonly kind: "container";
    /** The Dockerfile the publisher builds with: its path among the conversion's files. */
    readonly dockerfile: string;
    /** The publisher's build arguments (platform, build args) for a root file system of this sha256. */
    readonly buildArgs: (sha256: string) => string[];
    /** Checks run in the container as a user (uid) that is not root; exit 0 passes. */
    readonly contract: readonly Check[];
    /** The runtime it prefers (the doctor's checks). */
    readonly tools?: readonly ToolId[];
}

export type FirstBoot = VmFirstBoot | ContainerFirstBoot;

/** The command of a check for an OS family. */
export function commandOf(check: Check, family: "Debian" | "RedHat"): string {
    return typeof check.run === "string" ? check.run : check.run[family];
}

export interface CheckResult {
    readonly name: string;
    readonly ok: boolean;
    /** The command's output when it failed. */
    readonly detail?: string;
}

/** One check's line for the user watching: "check passed: …" or "check FAILED: …". */
export function tellCheck(c: CheckResult, log?: Log): void {
    log?.(`check ${c.ok ? "passed" : "FAILED"}: ${c.name}`);
}

/** Runs a command in the machine or container under test: its exit code and its output. */
export type RunIn = (command: string) => Promise<{ code: number | null; out: string }>;

/**
 * Runs checks in turn in the machine (the OS family decides each check's command), each told to
 * `log` as it ends: a user watching a test of minutes sees which check it is at.
 */
export async function runCheckList(checks: readonly Check[], family: "Debian" | "RedHat", run: RunIn, log?: Log): Promise<CheckResult[]> {
    const out: CheckResult[] = [];
    for (const c of checks) {
        const r = await run(commandOf(c, family));
        const result = r.code === 0 ? { name: c.name, ok: true } : { name: c.name, ok: false, detail: r.out.trim().slice(-500) || `exit ${r.code}` };
        tellCheck(result, log);
        out.push(result);
    }
    return out;
}

/** A plain HTTP answer (Content-Length, Connection: close: the relays carry one request each). */
export function reply(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { "Content-Type": "text/plain", "Content-Length": Buffer.byteLength(body), Connection: "close", ...headers });
    res.end(body);
}
