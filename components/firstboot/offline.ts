// The image as it will ship, read before its first boot: a first boot makes SSH host keys and a
// machine-id, so only a read of the disk itself shows whether the image already carried them
// (every machine made from it would share them), or carried another way in: a key in some
// authorized_keys, a user with a password, passwordless sudo. Read-only libguestfs passes,
// independent of the code that built it; the boot that follows runs on an overlay. What is
// read here is also what the checks after the boot compare with (ImageFacts).
import { inspectImage, isLockedPasswordField } from "./inspect";
import type { Baked, CheckResult } from "./mechanism";

/** What the image holds that a booted machine must not still have (compared after the boot). */
export interface ImageFacts {
    /** Bodies of the host public keys in the image. */
    readonly hostKeys: string[];
    /** The image's machine-id ("" when empty). */
    readonly machineId: string;
}

const check = (name: string, ok: boolean, detail: string): CheckResult => (ok ? { name, ok } : { name, ok, detail });

/** The base64 body of each key line of an authorized_keys file (options and comments aside). */
export function keyBodies(text: string): string[] {
    const out: string[] = [];
    for (const line of text.split("\n")) {
        const t = line.trim();
        if (!t || t.startsWith("#")) continue;
        const body = /(?:^|\s)((?:ssh|ecdsa|sk)-[\w@.-]+)\s+([A-Za-z0-9+/=]{20,})/.exec(t);
        out.push(body ? body[2] : t);
    }
    return out;
}

/** Users of a shadow file who can log in with a password (a hash, or no password at all). */
export function passwordUsers(shadow: string): string[] {
    return shadow
        .split("\n")
        .map((l) => l.split(":"))
        .filter((f) => f.length > 1 && f[0] !== "" && !isLockedPasswordField(f[1]))
        .map((f) => f[0]);
}

/** sudoers lines (not comments, not Defaults) that grant sudo without a password. */
export function nopasswdLines(text: string): string[] {
    return text
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("#") && !/^Defaults/.test(l) && /NOPASSWD\s*:/.test(l));
}

/** The base64 body of one public key line ("type body comment"), what authorized_keys are compared by. */
export function keyBody(publicKey: string): string {
    return keyBodies(publicKey)[0] ?? publicKey.trim();
}

const KEY_GLOBS = ["/root/.ssh/authorized_keys*", "/home/*/.ssh/authorized_keys*", "/etc/ssh/authorized_keys*"];
const SUDOERS_GLOB = "/etc/sudoers.d/*";
const HOST_KEY_PUBS = "/etc/ssh/ssh_host_*_key.pub";

const UNIT_DIRS = ["/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"];
const CLOUD_INIT_DISABLED = "/etc/cloud/cloud-init.disabled";
// The last character as a class: a glob with a wildcard lists a dangling link (a mask to /dev/null) too.
const unitGlob = (dir: string, unit: string) => `${dir}/${unit.slice(0, -1)}[${unit.slice(-1)}]`;

/**
 * Which of `units` (each a list of names, one of which must do: names differ by OS family) is
 * not enabled in the image: no `*.wants/` link, masked, or (cloud-init) switched off by
 * /etc/cloud/cloud-init.disabled. Reads the globs of `unitReads`.
 */
export function disabledUnits(units: readonly (readonly string[])[], globs: Record<string, string[]>, files: Record<string, string | null>): string[] {
    const state = (unit: string): string | undefined => {
        const links = UNIT_DIRS.flatMap((d) => globs[`${d}/*.wants/${unit}`] ?? []);
        // A link to /dev/null (a character device, or nothing, in the image) or an empty file: systemd's mask.
        const masked = (globs[unitGlob("/etc/systemd/system", unit)] ?? []).some((f) => !files[f]);
        if (masked) return `${unit} is masked (/etc/systemd/system/${unit} → /dev/null)`;
        if (!links.length) return `${unit} is not enabled (no *.wants/ link)`;
        if (unit === "cloud-init.service" && files[CLOUD_INIT_DISABLED] !== null) return `${CLOUD_INIT_DISABLED} switches cloud-init off`;
        return undefined;
    };
    return units.map((names) => names.map(state)).filter((why) => why.every(Boolean)).map((why) => why.join(" and "));
}

/** What to read for `disabledUnits`. */
function unitReads(units: readonly (readonly string[])[]): { globs: string[]; files: string[] } {
    const names = units.flat();
    return {
        globs: names.flatMap((u) => [...UNIT_DIRS.map((d) => `${d}/*.wants/${u}`), unitGlob("/etc/systemd/system", u)]),
        files: names.includes("cloud-init.service") ? [CLOUD_INIT_DISABLED] : [],
    };
}

/**
 * The offline checks of a disk (libguestfs format names: qcow2, raw, vpc, vmdk) and the image's
 * facts. `units`: the services of the cloud's way in, which must be enabled in the image.
 */
export async function offlineChecks(disk: string, format: string, buildKey: string, baked: Baked = {}, units: readonly (readonly string[])[] = []): Promise<{ checks: CheckResult[]; facts: ImageFacts }> {
    const reads = unitReads(units);
    const seen = await inspectImage(disk, format, { files: ["/etc/sudoers", ...reads.files], globs: [...KEY_GLOBS, SUDOERS_GLOB, HOST_KEY_PUBS, ...reads.globs], readGlobbed: true });
    const read = (p: string) => seen.files[p] ?? "";
    const machineId = seen.machineId.trim();
    const shadow = passwordUsers(seen.shadow);

    const keyFiles = KEY_GLOBS.flatMap((g) => seen.globs[g] ?? []);
    const keys = keyFiles.flatMap((f) => keyBodies(read(f)).map((body) => ({ file: f, body })));
    const foreign = keys.filter((k) => !(baked.keys ?? []).includes(k.body));
    const buildBody = keyBody(buildKey);
    const withBuildKey = keys.filter((k) => k.body === buildBody).map((k) => k.file);
    const sudoers = [["/etc/sudoers", seen.files["/etc/sudoers"] ?? ""], ...(seen.globs[SUDOERS_GLOB] ?? []).map((f) => [f, read(f)])];
    const nopasswd = sudoers.flatMap(([f, text]) => nopasswdLines(text).map((l) => `${f}: ${l}`)).filter((l) => !(baked.nopasswdUsers ?? []).some((u) => new RegExp(`: ${u}\\s`).test(l)));
    const rootField = seen.rootPasswordField;

    const checks = [
        check("offline: no SSH host keys in the image", seen.sshHostKeys.length === 0, `found ${seen.sshHostKeys.join(", ")}`),
        check("offline: an empty machine-id (each machine makes its own)", machineId === "" || machineId === "uninitialized", `/etc/machine-id holds ${JSON.stringify(machineId.slice(0, 40))}`),
        check("offline: root's password locked", isLockedPasswordField(rootField), `root's shadow field starts with ${JSON.stringify((rootField ?? "(no root line)").slice(0, 3))}`),
        check("offline: no user with a password", shadow.length === 0, `users who can log in with a password: ${shadow.join(", ")}`),
        check("offline: no build key in the image", withBuildKey.length === 0, `the build key is in ${withBuildKey.join(", ")}`),
        check("offline: no SSH key in any authorized_keys (the cloud gives the user's)", foreign.length === 0, `keys in ${[...new Set(foreign.map((k) => k.file))].join(", ")}`),
        check("offline: no passwordless sudo", nopasswd.length === 0, nopasswd.join("; ")),
    ];
    if (units.length) {
        const off = disabledUnits(units, seen.globs, seen.files);
        checks.push(check(`offline: the way in enabled (${units.map((u) => u.join(" or ")).join(", ")})`, off.length === 0, off.join("; ")));
    }
    const hostKeys = (seen.globs[HOST_KEY_PUBS] ?? []).flatMap((f) => keyBodies(read(f)));
    return { checks, facts: { hostKeys, machineId: machineId === "uninitialized" ? "" : machineId } };
}
