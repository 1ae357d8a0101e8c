// A Vagrant box catalog (the seed's artifacts/<OS>.json): one file per OS, listing every
// published version and its providers. Several Pulumi stacks (one per image version) update
// the same file, so every change is read-modify-write under an exclusive lock and lands by
// an atomic rename: a reader (or `vagrant box add`) never sees a half-written catalog.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface CatalogProvider {
    name: string;
    url: string;
    checksum_type: "sha256";
    checksum: string;
    [extra: string]: unknown; // fields written by others (e.g. architecture) are kept as they are
}

export interface CatalogVersion {
    version: string;
    providers: CatalogProvider[];
    [extra: string]: unknown;
}

export interface Catalog {
    name: string;
    description?: string;
    versions: CatalogVersion[];
    [extra: string]: unknown;
}

/** Bad input from the caller (exit code 2 in the CLI), as opposed to I/O or lock failures. */
export class CatalogInputError extends Error {}

// Vagrant's own provider names; a typo here would publish a box no `vagrant up` ever picks.
export const PROVIDERS = ["virtualbox", "vmware_desktop", "libvirt", "hyperv", "parallels", "docker", "qemu"] as const;

// semver.org's regular expression (2.0.0), so "1.4", "v1.4.0" and "01.4.0" are refused.
const SEMVER =
    /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
// Vagrant Cloud's rule for "namespace/box": one slash, no spaces, nothing that breaks a URL.
const BOX_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function validateVersion(v: string): string {
    if (!SEMVER.test(v)) throw new CatalogInputError(`version ${JSON.stringify(v)} is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.4.0)`);
    return v;
}

export function validateSha256(h: string): string {
    if (!/^[0-9a-fA-F]{64}$/.test(h)) throw new CatalogInputError(`sha256 ${JSON.stringify(h)} is not 64 hexadecimal digits`);
    return h.toLowerCase(); // Vagrant compares case-insensitively; one spelling keeps diffs quiet
}

export function validateName(n: string): string {
    if (!BOX_NAME.test(n)) throw new CatalogInputError(`name ${JSON.stringify(n)} must be NAMESPACE/BOX with exactly one slash (letters, digits, . _ -)`);
    return n;
}

export function validateProvider(p: string): string {
    if (!(PROVIDERS as readonly string[]).includes(p)) {
        throw new CatalogInputError(`provider ${JSON.stringify(p)} is not one of: ${PROVIDERS.join(", ")}`);
    }
    return p;
}

export function validateUrl(u: string): string {
    let parsed: URL;
    try {
        parsed = new URL(u);
    } catch {
        throw new CatalogInputError(`url ${JSON.stringify(u)} is not an absolute URL (use file:///path, https://… or http://…)`);
    }
    if (!["file:", "https:", "http:"].includes(parsed.protocol)) {
        throw new CatalogInputError(`url ${JSON.stringify(u)} has scheme ${parsed.protocol} — valid: file:, https:, http:`);
    }
    return u;
}

/** semver precedence (2.0.0 §11): build metadata ignored, a pre-release sorts before its release. */
export function compareSemver(a: string, b: string): number {
    const pa = SEMVER.exec(a);
    const pb = SEMVER.exec(b);
    if (!pa || !pb) throw new CatalogInputError(`cannot order non-semver versions ${JSON.stringify(a)} and ${JSON.stringify(b)}`);
    for (let i = 1; i <= 3; i++) {
        const d = Number(pa[i]) - Number(pb[i]);
        if (d !== 0) return Math.sign(d);
    }
    if (!pa[4] || !pb[4]) return pa[4] ? -1 : pb[4] ? 1 : 0;
    const xa = pa[4].split(".");
    const xb = pb[4].split(".");
    for (let i = 0; i < Math.max(xa.length, xb.length); i++) {
        if (xa[i] === undefined) return -1;
        if (xb[i] === undefined) return 1;
        const na = /^\d+$/.test(xa[i]);
        const nb = /^\d+$/.test(xb[i]);
        if (na && nb && Number(xa[i]) !== Number(xb[i])) return Math.sign(Number(xa[i]) - Number(xb[i]));
        if (na !== nb) return na ? -1 : 1;
        if (!na && xa[i] !== xb[i]) return xa[i] < xb[i] ? -1 : 1;
    }
    return 0;
}

export interface AddRequest {
    name: string;
    version: string;
    provider: string;
    url: string;
    sha256: string;
    description?: string;
}

/** Pure: the catalog with that version+provider added or replaced, versions oldest first. */
export function addToCatalog(catalog: Catalog | undefined, req: AddRequest): Catalog {
    const name = validateName(req.name);
    const version = validateVersion(req.version);
    const entry: CatalogProvider = {
        name: validateProvider(req.provider),
        url: validateUrl(req.url),
        checksum_type: "sha256",
        checksum: validateSha256(req.sha256),
    };
    if (catalog && catalog.name !== name) {
        // One file per box: writing another box's versions here would hand users the wrong OS.
        throw new CatalogInputError(`name ${JSON.stringify(name)} does not match the catalog's name ${JSON.stringify(catalog.name)}`);
    }
    const out: Catalog = catalog
        ? { ...catalog, versions: catalog.versions.map((v) => ({ ...v, providers: [...v.providers] })) }
        : { name, description: `${name} gold image`, versions: [] };
    if (req.description !== undefined) out.description = req.description;
    let v = out.versions.find((x) => x.version === version);
    if (!v) {
        v = { version, providers: [] };
        out.versions.push(v);
    }
    const i = v.providers.findIndex((p) => p.name === entry.name);
    if (i >= 0) v.providers[i] = { ...v.providers[i], ...entry };
    else v.providers.push(entry);
    v.providers.sort((a, b) => a.name.localeCompare(b.name));
    out.versions.sort((a, b) => compareSemver(a.version, b.version));
    return out;
}

/**
 * Pure: the catalog without that version (or only that provider of it). A version left with
 * no provider goes too, since Vagrant cannot install it. Removing what is absent is no error:
 * Pulumi's delete must be idempotent. With sha256, only an entry with that checksum goes:
 * a Pulumi replace runs the old delete AFTER the new create, and for the same version and
 * provider an unconditional remove would wipe the entry just added.
 */
export function removeFromCatalog(catalog: Catalog, version: string, provider?: string, sha256?: string): { catalog: Catalog; changed: boolean } {
    validateVersion(version);
    if (provider !== undefined) validateProvider(provider);
    const sum = sha256 === undefined ? undefined : validateSha256(sha256);
    let changed = false;
    const versions: CatalogVersion[] = [];
    for (const v of catalog.versions) {
        if (v.version !== version) {
            versions.push(v);
            continue;
        }
        const doomed = (p: CatalogProvider) => (provider === undefined || p.name === provider) && (sum === undefined || p.checksum.toLowerCase() === sum);
        const providers = v.providers.filter((p) => !doomed(p));
        changed = changed || providers.length !== v.providers.length;
        if (providers.length > 0) versions.push({ ...v, providers });
    }
    return { catalog: { ...catalog, versions }, changed };
}

/** Reads a catalog; undefined when the file does not exist, an error naming the file if it is not one. */
export function readCatalog(file: string): Catalog | undefined {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
    }
    let data: unknown;
    try {
        data = JSON.parse(text);
    } catch (e) {
        throw new Error(`catalog ${file} is not valid JSON: ${(e as Error).message}`);
    }
    const c = data as Catalog;
    if (typeof c !== "object" || c === null || typeof c.name !== "string" || !Array.isArray(c.versions)) {
        throw new Error(`catalog ${file} is not a Vagrant catalog (needs "name" and a "versions" list)`);
    }
    return c;
}

/** Temp file in the same directory (rename is atomic only within a filesystem), fsync, rename. */
export function writeCatalogAtomic(file: string, catalog: Catalog): void {
    const dir = path.dirname(file);
    fs.mkdirSync(dir, { recursive: true });
    const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`);
    try {
        const fd = fs.openSync(tmp, "w", 0o644);
        try {
            fs.writeSync(fd, JSON.stringify(catalog, null, 2) + "\n");
            fs.fsyncSync(fd);
        } finally {
            fs.closeSync(fd);
        }
        fs.renameSync(tmp, file);
    } catch (e) {
        fs.rmSync(tmp, { force: true });
        throw e;
    }
    // The rename itself is durable only once the directory is synced.
    const dfd = fs.openSync(dir, "r");
    try {
        fs.fsyncSync(dfd);
    } finally {
        fs.closeSync(dfd);
    }
}

export interface LockOptions {
    timeoutMs?: number; // give up waiting after this long (a live holder is never broken)
    staleMs?: number; // a lock this old from another host (pid unknowable) counts as abandoned
}

interface LockInfo {
    pid: number;
    host: string;
    token: string;
    time: number;
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function isAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
    }
}

function readLock(lock: string): { text: string; info?: LockInfo } | undefined {
    try {
        const text = fs.readFileSync(lock, "utf8");
        try {
            return { text, info: JSON.parse(text) as LockInfo };
        } catch {
            return { text }; // being written right now, or garbage: judged by age below
        }
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
    }
}

function isStale(lock: string, held: { text: string; info?: LockInfo }, staleMs: number): boolean {
    const info = held.info;
    // Same host: the holder's pid says for sure (a crashed `pulumi up` leaves its lock behind).
    if (info && info.host === os.hostname() && typeof info.pid === "number") return !isAlive(info.pid);
    let age: number;
    try {
        age = Date.now() - fs.statSync(lock).mtimeMs;
    } catch {
        return false; // gone already: the next open will tell
    }
    return age > staleMs;
}

/**
 * Breaks an abandoned lock without ever deleting a fresh one: the lock is first renamed to a
 * unique name (only one breaker can win that), then its content is compared with what was
 * judged stale. If a new holder slipped in between, its lock is linked back (link fails rather
 * than overwrite, so no third holder is clobbered either).
 */
function breakLock(lock: string, judged: string): void {
    const aside = `${lock}.stale.${process.pid}.${crypto.randomBytes(4).toString("hex")}`;
    try {
        fs.renameSync(lock, aside);
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
        throw e;
    }
    if (fs.readFileSync(aside, "utf8") !== judged) {
        try {
            fs.linkSync(aside, lock);
        } catch {
            /* someone holds a newer lock: theirs stands */
        }
    }
    fs.rmSync(aside, { force: true });
}

/** Runs fn while holding `file.lock` (O_EXCL create), waiting with backoff up to timeoutMs. */
export function withLock<T>(file: string, fn: () => T, opts: LockOptions = {}): T {
    const lock = `${file}.lock`;
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const staleMs = opts.staleMs ?? 10 * 60_000;
    const mine: LockInfo = { pid: process.pid, host: os.hostname(), token: crypto.randomBytes(8).toString("hex"), time: Date.now() };
    const text = JSON.stringify(mine);
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    const deadline = Date.now() + timeoutMs;
    let wait = 5;
    for (;;) {
        try {
            const fd = fs.openSync(lock, "wx", 0o644);
            try {
                fs.writeSync(fd, text);
            } finally {
                fs.closeSync(fd);
            }
            break;
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        }
        const held = readLock(lock);
        if (held && isStale(lock, held, staleMs)) {
            breakLock(lock, held.text);
            continue;
        }
        if (Date.now() > deadline) {
            const who = held?.info ? `pid ${held.info.pid} on ${held.info.host} since ${new Date(held.info.time).toISOString()}` : "an unknown holder";
            throw new Error(`timed out after ${timeoutMs} ms waiting for lock ${lock} held by ${who}`);
        }
        // Jittered backoff so a crowd of stacks does not retry in lockstep.
        sleepSync(wait + Math.random() * wait);
        wait = Math.min(wait * 2, 200);
    }
    try {
        return fn();
    } finally {
        // Release only our own lock: if it was (wrongly) broken, the new holder's stays.
        const held = readLock(lock);
        if (held?.info?.token === mine.token) fs.rmSync(lock, { force: true });
    }
}

export interface UpdateResult {
    catalog: string;
    versions: string[];
    changed: boolean;
}

/** add under the lock. */
export function addVersion(file: string, req: AddRequest, opts?: LockOptions): UpdateResult {
    const abs = path.resolve(file);
    addToCatalog(undefined, req); // validate before touching the lock or the file
    return withLock(
        abs,
        () => {
            const next = addToCatalog(readCatalog(abs), req);
            writeCatalogAtomic(abs, next);
            return { catalog: abs, versions: next.versions.map((v) => v.version), changed: true };
        },
        opts,
    );
}

/**
 * remove under the lock. When the last version goes, the file stays with `"versions": []`:
 * its name/description are the box's identity and another stack may add a version again;
 * deleting it is left to whoever retires the box. A missing catalog is not created.
 */
export function removeVersion(file: string, version: string, provider?: string, opts?: LockOptions, sha256?: string): UpdateResult {
    const abs = path.resolve(file);
    validateVersion(version);
    if (provider !== undefined) validateProvider(provider);
    if (sha256 !== undefined) validateSha256(sha256);
    return withLock(
        abs,
        () => {
            const current = readCatalog(abs);
            if (!current) return { catalog: abs, versions: [], changed: false };
            const { catalog, changed } = removeFromCatalog(current, version, provider, sha256);
            if (changed) writeCatalogAtomic(abs, catalog);
            return { catalog: abs, versions: catalog.versions.map((v) => v.version), changed };
        },
        opts,
    );
}
