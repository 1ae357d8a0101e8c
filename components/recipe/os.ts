import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { badChoice } from "./choices";
import { parseVarFile } from "./hcl";
import { recipePaths, repoRoot } from "./paths";

const KICKSTARTS = ["el7", "el8", "none", ""] as const;
/** Firmware a disk may be made for. */
export const FIRMWARE = ["bios", "uefi"] as const;
export type Firmware = (typeof FIRMWARE)[number];
/** The kernel drivers the clouds' current machines need, as their module names. */
export const DRIVERS = ["nvme", "ena", "gve", "idpf", "mana", "hv_netvsc", "hv_storvsc", "vmw_pvscsi", "vmxnet3", "virtio_scsi"] as const;
export type Driver = (typeof DRIVERS)[number];
const text = (rule: string, re?: RegExp) => (re ? z.string({ error: rule }).regex(re, { error: rule }) : z.string({ error: rule }));

/** An OS file's fields (templates/os/<id>.pkrvars.hcl), each checked with what it must be. */
const OS_FILE = z.object({
    /** The OS id: the file name, and Packer's vm_name (e.g. CentOS-7.2.1511). */
    vm_name: text("a string"),
    /** As Ansible's ansible_distribution reports it (CentOS, RedHat, Rocky, AlmaLinux, Debian). */
    os_name: text("a name (letters and digits)", /^[A-Za-z][A-Za-z0-9]*$/),
    /** As Ansible's ansible_distribution_version reports it. */
    os_version: text("a version (digits and dots)", /^[0-9][0-9.]*$/),
    /** Major release: picks the kickstart family (7: el7, 8 and later: el8). */
    os_major: z.number({ error: "a whole number" }).int({ error: "a whole number" }),
    /** libosinfo short id: OpenStack's os_distro and the OVF's description. */
    os_distro: text("a libosinfo short id such as rhel, centos, rocky, debian", /^[a-z][a-z0-9.-]*$/),
    iso_name: text("a file name"),
    /** Public download URL; empty where the ISO comes only from the site's iso_server (RHEL). */
    iso_url: text("a string"),
    /** "sha256:<64 hex>" of the published ISO. */
    iso_checksum: text("'sha256:' and 64 lowercase hex digits", /^sha256:[0-9a-f]{64}$/),
    boot_command: z.array(z.string(), { error: "a list of strings" }),
    /** Install tree URL; may use {{ repo_server }} (rendered from the site variables). */
    install_url: text("a string"),
    /** Extra repositories, name to URL, enabled during install and in the image. */
    extra_repos: z.record(z.string(), z.string(), { error: "a map of repository name to URL" }),
    /** VirtualBox's guest OS type (the box's OVF and the virtualbox-iso builder). */
    guest_os_type_virtualbox: text("a VirtualBox OS type such as RedHat_64", /^[A-Za-z0-9_]+$/),
    /** VMware's .vmx guestOS (the vmware-iso builder), e.g. centos7-64. */
    guest_os_type_vmware: text("a VMware guestOS such as centos7-64", /^[a-z0-9-]+$/),
    /** vSphere's name of the same type (the OVA's vmw:osType), e.g. centos7_64Guest. */
    guest_os_type_vsphere: text("a vSphere guest id such as centos7_64Guest", /^[A-Za-z0-9_]+Guest$/),
    /** The user cloud-init makes by default on this OS (its cloud.cfg): clouds give it the key. */
    cloud_user: text("a user name", /^[a-z_][a-z0-9_-]*$/),
    /** The firmware its disk boots with: "bios" (GRUB in the BIOS boot gap), "uefi" (an EFI system partition). */
    firmware: z.array(z.enum(FIRMWARE), { error: `a list of ${FIRMWARE.join(", ")}` }).min(1, { error: `a list of ${FIRMWARE.join(", ")}` }),
    /** It boots under UEFI Secure Boot with Microsoft's keys (a shim and GRUB its vendor signed). */
    secure_boot: z.boolean({ error: "true or false" }),
    /** Drivers its kernel has for the clouds' current machines (the first-boot test finds each in the image). */
    kernel_drivers: z.array(z.enum(DRIVERS), { error: `a list of ${DRIVERS.join(", ")}` }),
    /** cloud-init speaks IMDSv2 (EC2 tokens; cloud-init 19.4 and later). */
    imds_v2: z.boolean({ error: "true or false" }),
    /** Kickstart family (el7, el8) or "none" (a base from a disk image only); absent: from os_major. */
    kickstart: z.enum(KICKSTARTS, { error: `one of ${KICKSTARTS.filter(Boolean).join(", ")}` }).optional(),
});

/** An OS of the recipe, read from templates/os/<id>.pkrvars.hcl (the single source per OS). */
export type OsVars = Readonly<z.infer<typeof OS_FILE>>;

const OS_EXT = ".pkrvars.hcl";

/** OS ids: regular files only (a symlink could point a served kickstart at any file). */
export function listOses(root: string = repoRoot): string[] {
    return fs
        .readdirSync(recipePaths(root).osDir, { withFileTypes: true })
        .filter((e) => e.isFile() && e.name.endsWith(OS_EXT))
        .map((e) => e.name.slice(0, -OS_EXT.length))
        .sort();
}

export function osFile(id: string, root: string = repoRoot): string {
    return path.join(recipePaths(root).osDir, id + OS_EXT);
}

/** Reads and checks one OS file; an unknown id lists the known ones. */
export function loadOs(id: string, root: string = repoRoot, known: readonly string[] = listOses(root)): OsVars {
    if (!known.includes(id)) throw badChoice("unknown OS", id, known);
    const file = osFile(id, root);
    const parsed = OS_FILE.safeParse(parseVarFile(fs.readFileSync(file, "utf8"), file));
    if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new Error(`${file}: ${issue.path.join(".")} must be ${issue.message}`);
    }
    if (parsed.data.vm_name !== id) throw new Error(`${file}: vm_name must equal the file name '${id}'`);
    if (parsed.data.secure_boot && !parsed.data.firmware.includes("uefi")) throw new Error(`${file}: secure_boot must be false: firmware ${JSON.stringify(parsed.data.firmware)} has no uefi`);
    const problem = installFirmwareProblem(parsed.data);
    if (problem) throw new Error(`${file}: firmware ${JSON.stringify(parsed.data.firmware)} cannot be installed: ${problem}`);
    return parsed.data;
}

/**
 * Why a kickstart install cannot make a disk that boots with the OS's firmware. Packer boots the
 * installer under BIOS, so the disk always boots BIOS; UEFI comes only with the hybrid layout,
 * which relies on the one GRUB configuration that EL8 and later share between both (BLS).
 */
function installFirmwareProblem(os: OsVars): string | undefined {
    if (!hasKickstart(os) || !bootsWith(os, "uefi")) return undefined;
    if (!bootsWith(os, "bios")) return 'the ISO install runs under BIOS, so its disk boots BIOS: list ["bios"], or ["bios", "uefi"] for a hybrid disk';
    if (kickstartFamily(os) === "el7") return 'EL7 makes no hybrid disk (its anaconda lays out a disk for the firmware it runs on, and its GRUB keeps separate BIOS and UEFI configurations): list ["bios"]';
    return undefined;
}

/** Whether an OS installs from its ISO with a kickstart (else its base starts from a disk image). */
export function hasKickstart(os: Pick<OsVars, "kickstart">): boolean {
    return os.kickstart !== "none";
}

/** Why an OS without a kickstart has none (after its name). */
export const NO_KICKSTART = "has no kickstart: its base starts from an existing disk image (config baseImages)";

/** The kickstart family of an OS: one kickstart template per family. */
export function kickstartFamily(os: Pick<OsVars, "os_major" | "kickstart" | "vm_name">): "el7" | "el8" {
    if (os.kickstart === "el7" || os.kickstart === "el8") return os.kickstart;
    if (!hasKickstart(os)) throw new Error(`${os.vm_name} ${NO_KICKSTART}`);
    return os.os_major <= 7 ? "el7" : "el8";
}

/** OSes that install with a kickstart: the ones the kickstart renderer and server offer. */
export function listKickstartOses(root: string = repoRoot): string[] {
    const known = listOses(root);
    return known.filter((id) => hasKickstart(loadOs(id, root, known)));
}

/** Whether the OS's kernel has a driver (its OS file's kernel_drivers). */
export function hasDriver(os: Pick<OsVars, "kernel_drivers">, driver: Driver): boolean {
    return os.kernel_drivers.includes(driver);
}

/** Whether the OS's disk boots with a firmware (its OS file's firmware). */
export function bootsWith(os: Pick<OsVars, "firmware">, firmware: Firmware): boolean {
    return os.firmware.includes(firmware);
}
