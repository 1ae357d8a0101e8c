import * as fs from "fs";
import * as path from "path";
import { badChoice } from "./choices";
import { HclValue, parseVarFile } from "./hcl";
import { recipePaths, repoRoot } from "./paths";

/** An OS of the recipe, read from templates/os/<id>.pkrvars.hcl (the single source per OS). */
export interface OsVars {
    /** The OS id: the file name, and Packer's vm_name (e.g. CentOS-7.2.1511). */
    readonly vm_name: string;
    /** As Ansible's ansible_distribution reports it (CentOS, RedHat, Rocky, AlmaLinux). */
    readonly os_name: string;
    /** As Ansible's ansible_distribution_version reports it. */
    readonly os_version: string;
    /** Major release: picks the kickstart family (7: el7, 8 and later: el8). */
    readonly os_major: number;
    readonly iso_name: string;
    /** Public download URL; empty where the ISO comes only from the site's iso_server (RHEL). */
    readonly iso_url: string;
    /** "sha256:<64 hex>" of the published ISO. */
    readonly iso_checksum: string;
    readonly boot_command: string[];
    /** Install tree URL; may use {{ repo_server }} (rendered from the site variables). */
    readonly install_url: string;
    /** Extra repositories, name to URL, enabled during install and in the image. */
    readonly extra_repos: Record<string, string>;
    readonly guest_os_type_virtualbox: string;
    readonly guest_os_type_vmware: string;
    /** Kickstart family (el7, el8) or "none" (a base from a disk image only); absent: from os_major. */
    readonly kickstart?: string;
}

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

const STRING_KEYS = [
    "vm_name",
    "os_name",
    "os_version",
    "iso_name",
    "iso_url",
    "iso_checksum",
    "install_url",
    "guest_os_type_virtualbox",
    "guest_os_type_vmware",
] as const;

/** Reads and checks one OS file; an unknown id lists the known ones. */
export function loadOs(id: string, root: string = repoRoot): OsVars {
    const known = listOses(root);
    if (!known.includes(id)) throw badChoice("unknown OS", id, known);
    const file = osFile(id, root);
    const v = parseVarFile(fs.readFileSync(file, "utf8"), file);
    const bad = (key: string, why: string) => new Error(`${file}: ${key} ${why}`);
    for (const key of STRING_KEYS) if (typeof v[key] !== "string") throw bad(key, "must be a string");
    if (v.vm_name !== id) throw bad("vm_name", `must equal the file name '${id}'`);
    if (typeof v.os_major !== "number" || !Number.isInteger(v.os_major)) throw bad("os_major", "must be a whole number");
    if (!/^sha256:[0-9a-f]{64}$/.test(v.iso_checksum as string)) throw bad("iso_checksum", "must be 'sha256:' and 64 lowercase hex digits");
    if (!Array.isArray(v.boot_command) || !v.boot_command.every((s) => typeof s === "string")) throw bad("boot_command", "must be a list of strings");
    if (!isStringMap(v.extra_repos)) throw bad("extra_repos", "must be a map of repository name to URL");
    if (v.kickstart !== undefined && !KICKSTARTS.includes(v.kickstart as string)) throw bad("kickstart", `must be one of ${KICKSTARTS.join(", ")}`);
    return v as unknown as OsVars;
}

function isStringMap(v: HclValue | undefined): v is Record<string, string> {
    return typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string");
}

const KICKSTARTS = ["el7", "el8", "none", ""];

/** Whether an OS installs from its ISO with a kickstart (else its base starts from a disk image). */
export function hasKickstart(os: Pick<OsVars, "kickstart">): boolean {
    return os.kickstart !== "none";
}

/** OSes that install with a kickstart: the ones the kickstart renderer and server offer. */
export function listKickstartOses(root: string = repoRoot): string[] {
    return listOses(root).filter((id) => hasKickstart(loadOs(id, root)));
}

/** The kickstart family of an OS: one kickstart template per family. */
export function kickstartFamily(os: Pick<OsVars, "os_major" | "kickstart" | "vm_name">): "el7" | "el8" {
    if (os.kickstart === "el7" || os.kickstart === "el8") return os.kickstart;
    if (!hasKickstart(os)) throw new Error(`${os.vm_name} has no kickstart: its base starts from an existing disk image (config baseImages)`);
    return os.os_major <= 7 ? "el7" : "el8";
}
