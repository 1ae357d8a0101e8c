// Stages in the store, by fingerprint. A stage's files are content-addressed blobs,
// blobs/<sha256>/<file name>, and the stage is its manifest, stages/<fingerprint>/manifest.json,
// written after every blob it names is complete: an interrupted upload leaves no manifest (or
// the previous one), so nothing half-made is ever trusted. Two runs racing for one fingerprint
// each upload their own blobs (different content, different keys); the first manifest written
// stands (a conditional write) and the other run prints it, so every stack that used the
// fingerprint names the same bytes; gc removes the other run's blobs. Blobs are shared: a test stage names its
// conversion's image, identical files are stored once.
import { createHash, randomBytes, type KeyObject } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Readable } from "stream";
import { pipeline } from "stream/promises";
import { Log, transferProgress } from "../progress";
import { LocalStore, ObjectInfo, ObjectStore, checkKey, writeAside } from "./object-store";
import { cannotSign, openManifest, signManifest, signingKey, trustedKeys } from "./signing";

export interface StoredFile {
    /** Path in the stage's directory (or the input's name, for a file the stage took as is). */
    readonly path: string;
    readonly sha256: string;
    readonly bytes: number;
    readonly key: string;
    /**
     * The service's version of the blob as this stage stored it (ObjectInfo.version): what
     * verification compares, never the writer's metadata. None in a directory store (hashed)
     * and in manifests from before it (their blobs are hashed when verified).
     */
    readonly version?: string;
}

export interface Manifest {
    readonly fingerprint: string;
    /** The stage's name in the program, e.g. Debian-12-aws-convert. */
    readonly stage: string;
    readonly created: string;
    /** What the stage printed, without local paths; `key` is its artifact's blob. */
    readonly result: Record<string, unknown> & { key: string; sha256: string; bytes: number };
    readonly files: StoredFile[];
}

export const manifestKey = (fingerprint: string) => `stages/${checkFingerprint(fingerprint)}/manifest.json`;
/** A stage's last-use mark: rewritten by every reader, so gc sees a stage in use as young. */
export const usedKey = (fingerprint: string) => `stages/${checkFingerprint(fingerprint)}/used`;
export const blobKey = (sha256: string, name: string) => `blobs/${sha256}/${name}`;
export const refsPrefix = "refs/";

/** A stage's fingerprint: the sha256 of its inputs. */
export const FINGERPRINT = /^[0-9a-f]{64}$/;

export function checkFingerprint(fp: string): string {
    if (!FINGERPRINT.test(fp)) throw new Error(`'${fp}' is not a stage fingerprint (64 hex digits)`);
    return fp;
}

/**
 * Why a directory is not a local store, or undefined when it is one: it exists and holds
 * stages/, blobs/ or refs/ (what storing a stage or a stack's references makes; a gc leaves the
 * folders), or nothing at all (a store made and not used yet). A missing directory, or one
 * holding only other things, is a mistyped path: read as a store it would look empty, and a gc
 * would report nothing to remove while the real store was never looked at.
 */
export function localStoreProblem(dir: string): string | undefined {
    const st = fs.statSync(dir, { throwIfNoEntry: false });
    if (!st) return `${dir} does not exist`;
    if (!st.isDirectory()) return `${dir} is not a directory`;
    const entries = fs.readdirSync(dir);
    if (entries.length === 0 || ["stages", "blobs", "refs"].some((d) => entries.includes(d))) return undefined;
    return `${dir} is not an artifact store: it has none of stages/, blobs/, refs/`;
}

/**
 * Marks a stage used now, before its manifest is read (a lookup extends a lifetime, as in
 * Bazel's remote cache): gc keeps a stage used within its minimum age, and one marked while it
 * runs (each mark is new text, so gc tells a new mark from the one it listed).
 */
export async function markUsed(store: ObjectStore, fingerprint: string): Promise<void> {
    try {
        await store.uploadText(usedKey(fingerprint), JSON.stringify({ used: new Date().toISOString(), mark: randomBytes(8).toString("hex") }) + "\n");
    } catch (e) {
        // A reader with read-only rights still reads; it says what that costs.
        process.stderr.write(`store: could not mark stage ${fingerprint.slice(0, 12)} used in ${store.url} (${(e as Error).message}): a gc running meanwhile may remove it\n`);
    }
}

/**
 * A stage's manifest as a reader that trusts `trusted` keys sees it (signing.ts): `refused`
 * says why a stored one is not taken (unsigned, signed by another key, not a manifest).
 */
export async function readStage(store: ObjectStore, fingerprint: string, trusted: Map<string, KeyObject> | undefined): Promise<{ manifest?: Manifest; refused?: string }> {
    const stored = await store.readText(manifestKey(fingerprint));
    return stored === undefined ? {} : parseStage(stored, fingerprint, trusted);
}

/**
 * What every reader of a stage does (a stage found, a stage's input, place/export, update):
 * marks it used, then reads it as a reader trusting `trusted` keys (by default the machine's).
 */
export async function useStage(store: ObjectStore, fingerprint: string, trusted = trustedKeys()): Promise<{ manifest?: Manifest; refused?: string }> {
    await markUsed(store, fingerprint);
    return readStage(store, fingerprint, trusted);
}

/** A stored manifest object's text as `readStage` judges it. */
function parseStage(stored: string, fingerprint: string, trusted: Map<string, KeyObject> | undefined): { manifest?: Manifest; refused?: string } {
    const opened = openManifest(stored, trusted);
    if ("refused" in opened) return { refused: opened.refused };
    try {
        const m = JSON.parse(opened.text) as Manifest;
        if (m.fingerprint === fingerprint && Array.isArray(m.files) && typeof m.result?.key === "string" && m.files.every(safeFile) && m.files.some((f) => f.key === m.result.key)) return { manifest: m };
    } catch {
        // A manifest that does not parse is not a stage: built again.
    }
    return { refused: "its manifest is not one (it does not parse, or names files outside the store's layout)" };
}

/**
 * A stage's manifest, signed or not (what gc and the store's own bookkeeping read), or
 * undefined when the store has none (or one that is not a manifest). What is built on or
 * published reads it through `readStage` with the trusted keys.
 */
export async function readManifest(store: ObjectStore, fingerprint: string): Promise<Manifest | undefined> {
    return (await readStage(store, fingerprint, undefined)).manifest;
}

/** A manifest's file: a store key, a relative path without '.'/'..' segments (restored under a directory). */
function safeFile(f: StoredFile): boolean {
    try {
        checkKey(f.key);
        checkKey(f.path);
    } catch {
        return false;
    }
    return /^[0-9a-f]{64}$/.test(f.sha256) && Number.isSafeInteger(f.bytes) && f.bytes >= 0;
}

/** sha256 and length of a stream (`progress` is told the bytes read so far). */
export async function hashStream(stream: Readable, sink?: fs.WriteStream, progress?: (bytes: number) => void): Promise<{ sha256: string; bytes: number }> {
    const h = createHash("sha256");
    let bytes = 0;
    stream.on("data", (d: Buffer) => {
        h.update(d);
        bytes += d.length;
        progress?.(bytes);
    });
    if (sink) await pipeline(stream, sink);
    else {
        stream.resume();
        await new Promise<void>((resolve, reject) => stream.on("end", resolve).on("error", reject));
    }
    return { sha256: h.digest("hex"), bytes };
}

export async function hashFile(file: string): Promise<string> {
    return (await hashStream(fs.createReadStream(file))).sha256;
}

/**
 * Why a stage in the store cannot be trusted (undefined when every one of its blobs is there,
 * complete, of its size, with its sha256). In a directory store every byte is hashed; in object
 * storage each blob's sha256 is the one its upload recorded with it (checked without reading
 * gigabytes back: a stage found is not downloaded), and every byte is hashed again whenever a
 * blob is downloaded (localBlob).
 */
export async function verifyStage(store: ObjectStore, m: Manifest): Promise<string | undefined> {
    const seen = new Set<string>();
    for (const f of m.files) {
        if (seen.has(f.key)) continue;
        seen.add(f.key);
        const info = await store.stat(f.key);
        if (!info) return `${f.key} is missing`;
        if (!info.complete) return `${f.key} was never finished (its upload did not mark it complete)`;
        if (info.bytes !== f.bytes) return `${f.key} is ${info.bytes} bytes, the manifest says ${f.bytes}`;
        // What the service says, or the bytes themselves; never the sha256 a writer put in metadata.
        // The same version: the very object stored. Another (written again, or a copied store):
        // its bytes decide.
        const recorded = f.version !== undefined && !(store instanceof LocalStore);
        if (recorded && info.version === f.version) continue;
        const { sha256 } = await hashStream(await store.open(f.key));
        if (sha256 === f.sha256) continue;
        if (recorded) return `${f.key} was written again after its stage was stored (the service's version ${info.version ?? "(none)"}, the manifest's ${f.version}), and its bytes have sha256 ${sha256}, not ${f.sha256}`;
        return `${f.key}: its bytes have sha256 ${sha256}, the manifest says ${f.sha256}`;
    }
    return undefined;
}

/** What a transfer of a stored file is called in progress lines: the file's name, not its 64-hex key. */
const transferName = (key: string) => key.slice(key.lastIndexOf("/") + 1);

/** `store.upload`, its progress told to `log` (a line every 10 %; nothing for a small file). */
export async function uploadFile(store: ObjectStore, key: string, file: string, opts: { page?: boolean; sha256?: string; log?: Log; what?: string } = {}): Promise<string | undefined> {
    const meter = transferProgress(opts.log, opts.what ?? `upload ${transferName(key)}`, fs.statSync(file).size);
    const version = await store.upload(key, file, { page: opts.page, sha256: opts.sha256, progress: meter.update });
    meter.end();
    return version;
}

/**
 * A blob already at `key`, kept when its bytes are `sha256` (hashed, not taken from its
 * metadata) and it was not written again while hashed: its service version (none in a
 * directory). Undefined: it is not those bytes.
 */
async function keepExisting(store: ObjectStore, key: string, sha256: string, before: ObjectInfo): Promise<{ version?: string } | undefined> {
    if ((await hashStream(await store.open(key))).sha256 !== sha256) return undefined;
    const after = await store.stat(key);
    return after && after.version === before.version ? { version: before.version } : undefined;
}

/**
 * A local file with a blob's content: the store's own file when the store is a directory,
 * else a copy in the machine's cache (downloaded once, hashed on the way, kept only if it
 * matches; hashed again each time it is taken from the cache: a file of the right size is not
 * the right file; its progress told to `log`). `verify` hashes a directory store's file too
 * (what leaves the store: place, export), and says so.
 */
export async function localBlob(store: ObjectStore, cache: LocalStore, f: StoredFile, log?: Log, opts: { verify?: boolean } = {}): Promise<string> {
    if (store instanceof LocalStore) {
        const file = store.file(f.key);
        const st = fs.statSync(file, { throwIfNoEntry: false });
        if (st?.size !== f.bytes) throw new Error(`${store.url}: ${f.key} is ${st ? `${st.size} bytes` : "missing"}, its stage says ${f.bytes}: the stage that made it must run again`);
        if (opts.verify) {
            const sha256 = await hashFile(file);
            if (sha256 !== f.sha256) throw new Error(`${store.url}: ${f.key} has sha256 ${sha256}, not ${f.sha256}: refused (the stage that made it must run again)`);
            log?.(`${transferName(f.key)}: sha256 ${f.sha256.slice(0, 12)}… verified (hashed once, here)`);
        }
        return file;
    }
    const cached = cache.file(f.key);
    if (fs.statSync(cached, { throwIfNoEntry: false })?.size === f.bytes) {
        if ((await hashFile(cached)) === f.sha256) return cached;
        log?.(`${transferName(f.key)}: this machine's cached copy does not have its sha256: downloaded again`);
    }
    const meter = transferProgress(log, `download ${transferName(f.key)}`, f.bytes);
    await writeAside(cached, async (tmp) => {
        const got = await hashStream(await store.open(f.key), fs.createWriteStream(tmp), meter.update);
        if (got.sha256 !== f.sha256) throw new Error(`${store.url}: ${f.key} has sha256 ${got.sha256}, not ${f.sha256}: refused`);
    });
    meter.end();
    return cached;
}

/** Every regular file under a directory, relative, sorted. */
function walk(dir: string, rel = ""): string[] {
    const out: string[] = [];
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) out.push(...walk(dir, r));
        else if (e.isFile()) out.push(r);
    }
    return out.sort();
}

/** A file name that is a key segment. */
const blobName = (file: string) => path.basename(file).replace(/[^A-Za-z0-9._-]/g, "_").replace(/^[.]/, "_");

export interface PutStage {
    readonly fingerprint: string;
    readonly stage: string;
    /** The directory the stage built. */
    readonly dir: string;
    /** What the stage printed: its artifact (a path), sha256, bytes and other fields. */
    readonly result: Record<string, unknown>;
    /** The stage's input, when its artifact is that input unchanged (a test passes its image on). */
    readonly input?: StoredFile;
    /** Disk formats Azure imports, uploaded as page blobs when the store is Azure's. */
    readonly pageBlob?: boolean;
    /** Where the uploads' progress goes. */
    readonly log?: Log;
}

/**
 * Stores a built stage: every file of its directory as a blob (skipped when a complete blob of
 * that content is there already), then its manifest. Paths of the stage's directory are
 * dropped from the result (they are this machine's): its artifact becomes `key`.
 */
/** Stores a built stage; `adopted` when another run stored the fingerprint first (its manifest is returned). */
export async function putStage(store: ObjectStore, s: PutStage): Promise<{ manifest: Manifest; adopted: boolean }> {
    const dir = path.resolve(s.dir);
    const artifact = path.resolve(String(s.result.artifact));
    const byInode = new Map<string, string>();
    const files: StoredFile[] = [];
    // The artifact first: its blob is named after it, the same content elsewhere in the stage is that blob.
    const rels = walk(dir).sort((x, y) => Number(path.join(dir, y) === artifact) - Number(path.join(dir, x) === artifact));
    for (const rel of rels) {
        const abs = path.join(dir, rel);
        const st = fs.statSync(abs);
        const inode = `${st.dev}:${st.ino}`;
        // The artifact's sum is the stage's own (it wrote SHA256SUMS); a hard link of a file is that file.
        const sha256 = abs === artifact ? String(s.result.sha256) : byInode.get(inode) ?? (await hashFile(abs));
        byInode.set(inode, sha256);
        // The same content twice (a hard link, a copy) is one blob.
        const key = files.find((f) => f.sha256 === sha256)?.key ?? blobKey(sha256, blobName(rel));
        files.push({ path: rel, sha256, bytes: st.size, key });
    }
    const versions = new Map<string, string | undefined>();
    // Small files first: the artifact, the long upload, last.
    for (const f of [...files].sort((x, y) => x.bytes - y.bytes)) {
        if (versions.has(f.key)) continue;
        const there = await store.stat(f.key);
        const page = Boolean(s.pageBlob) && path.join(dir, f.path) === artifact;
        // A blob of that content there already (another stage made the same bytes) is kept when
        // its bytes are these (hashed: its metadata is any writer's, its size proves nothing);
        // else it is written again (a stage that named it would never verify, nor its rebuilds).
        // (A disk for Azure's import must be a page blob: the same bytes as a block blob are uploaded again.)
        if (there?.complete && there.bytes === f.bytes && (!page || there.page)) {
            const kept = await keepExisting(store, f.key, f.sha256, there);
            if (kept) {
                versions.set(f.key, kept.version);
                continue;
            }
        }
        versions.set(f.key, await uploadFile(store, f.key, path.join(dir, f.path), { page, sha256: f.sha256, log: s.log }));
    }
    for (const [i, f] of files.entries()) {
        const version = versions.get(f.key);
        if (version !== undefined) files[i] = { ...f, version };
    }
    let main = files.find((f) => path.join(dir, f.path) === artifact);
    if (!main && s.input && s.input.sha256 === s.result.sha256) main = { ...s.input, path: "input" };
    if (!main) throw new Error(`${s.stage}: its artifact ${artifact} is neither in ${dir} nor its input`);
    if (main.path === "input") files.push(main);
    const result: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s.result)) {
        // Local paths (the artifact, a build context) are this machine's: the files are in the manifest.
        if (typeof v === "string" && (v === artifact || v.startsWith(`${dir}/`) || v === dir)) continue;
        result[k] = v;
    }
    const manifest: Manifest = {
        fingerprint: s.fingerprint,
        stage: s.stage,
        created: new Date().toISOString(),
        result: { ...result, key: main.key, sha256: main.sha256, bytes: main.bytes, file: main.path },
        files,
    };
    const key = manifestKey(s.fingerprint);
    // (Every writer: a build, and `update` storing a stage built before the store.)
    const unsignable = cannotSign();
    if (unsignable) throw new Error(`${s.stage}: ${unsignable}`);
    const signer = signingKey();
    const plain = JSON.stringify(manifest, null, 2) + "\n";
    const text = signer ? signManifest(plain, signer) : plain;
    let created: boolean;
    try {
        created = await store.createText(key, text);
    } catch (e) {
        // A write whose answer was lost may have landed: a manifest there is judged below.
        if (!(await readManifest(store, s.fingerprint))) throw e;
        created = false;
    }
    if (created) return { manifest, adopted: false };
    // Another run stored this stage first: its stage stands if it verifies; one that does not
    // (corrupt, incomplete, unsigned or signed by a key this machine does not trust: why this
    // run built) is replaced — only if it is still the one judged (If-Match): two runs that
    // rebuilt it never overwrite each other after a stack recorded one of them.
    for (let attempt = 0; attempt < 3; attempt++) {
        const seen = await store.readVersioned(key);
        const first = seen && parseStage(seen.text, s.fingerprint, trustedKeys()).manifest;
        if (first && (await verifyStage(store, first)) === undefined) return { manifest: first, adopted: true };
        if (!seen) {
            if (await store.createText(key, text)) return { manifest, adopted: false };
        } else if (await store.replaceText(key, text, seen.version)) return { manifest, adopted: false };
        // Another writer changed it meanwhile: judged again.
    }
    throw new Error(`${s.stage}: the manifest of ${s.fingerprint.slice(0, 12)} kept changing under this run (other writers): run it again`);
}

/** Restores a stage's files into a directory (its layout as built), as links or copies. */
export async function restoreStage(store: ObjectStore, cache: LocalStore, m: Manifest, dir: string, log?: Log): Promise<void> {
    for (const f of m.files) {
        if (f.path === "input") continue;
        const from = await localBlob(store, cache, f, log);
        const to = path.join(dir, ...f.path.split("/"));
        if (fs.statSync(to, { throwIfNoEntry: false })?.size === f.bytes) continue;
        await writeAside(to, async (tmp) => {
            try {
                fs.linkSync(from, tmp);
            } catch {
                await pipeline(fs.createReadStream(from), fs.createWriteStream(tmp));
            }
        });
    }
}
