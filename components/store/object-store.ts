// The artifact store's backends: a local directory, S3 (and S3-compatible servers), Azure Blob
// and Google Cloud Storage, behind one small interface. Objects are streamed both ways (never
// a whole file in memory), and an upload is whole or absent: S3 and GCS make an object visible
// only when its upload completes, Azure commits a block blob's blocks at the end, a local
// object is written aside and renamed. A page blob is the exception (visible at full size as
// soon as it is created): it counts as complete only once its uploader has marked it
// (metadata, set last), and a stage is trusted only through its manifest, written last.
import * as fs from "fs";
import * as path from "path";
import { Readable } from "stream";
import { pipeline } from "stream/promises";
import { createHash, randomBytes } from "crypto";

/** What the store knows of one object. */
export interface ObjectInfo {
    readonly key: string;
    readonly bytes: number;
    readonly modified: Date;
    /** False for a page blob whose upload has not been marked finished. */
    readonly complete: boolean;
    /** The sha256 its uploader recorded with it (object metadata; a directory store has none). */
    readonly sha256?: string;
    /** An Azure page blob (what Azure imports a disk from; other stores have none). */
    readonly page?: boolean;
    /**
     * What the service says of this write of the object: S3's ETag (the MD5 S3 computed of the
     * bytes, or of its parts'), Azure's ETag and GCS's generation (new at every write). Set by
     * the service, never by a writer. A manifest records it as its blobs are stored; a blob
     * written again behind the manifest's back (other bytes, the same metadata) has another,
     * and is then hashed. A directory has none (its files are hashed).
     */
    readonly version?: string;
}

export interface UploadOptions {
    /** An Azure page blob (a disk Azure imports). */
    readonly page?: boolean;
    /** The content's sha256, recorded with the object (metadata) as it becomes visible. */
    readonly sha256?: string;
    /** Told the bytes sent so far, as the backend's SDK reports them (components/progress.ts prints them). */
    readonly progress?: (bytesDone: number) => void;
}

/** Where a cloud itself reads an object, when the store is that cloud's storage. */
export type ObjectLocation =
    | { kind: "file"; path: string }
    | { kind: "s3"; bucket: string; object: string }
    | { kind: "azblob"; account: string; container: string; object: string }
    | { kind: "gs"; bucket: string; object: string };

export interface ObjectStore {
    /** The store's URL, as configured (artifactStore). */
    readonly url: string;
    stat(key: string): Promise<ObjectInfo | undefined>;
    /** Streams a local file up as `key`; the service's version of what it wrote (ObjectInfo.version), as the write's answer gave it. */
    upload(key: string, file: string, opts?: UploadOptions): Promise<string | undefined>;
    uploadText(key: string, text: string): Promise<void>;
    /** Writes a small text object only where the key holds none: false when one exists (the first writer wins). */
    createText(key: string, text: string): Promise<boolean>;
    /** A small text object and its version (S3's and Azure's ETag, GCS's generation, a directory's content hash). */
    readVersioned(key: string): Promise<{ text: string; version: string } | undefined>;
    /**
     * Replaces a small text object only while it is still at `version` (If-Match,
     * ifGenerationMatch): false when another writer changed it since it was read.
     */
    replaceText(key: string, text: string, version: string): Promise<boolean>;
    /** The object's bytes, streamed. */
    open(key: string): Promise<Readable>;
    readText(key: string): Promise<string | undefined>;
    /** Objects under a prefix (complete or not), sorted by key. */
    list(prefix: string): Promise<ObjectInfo[]>;
    remove(key: string): Promise<void>;
    location(key: string): ObjectLocation;
}

/** A file written beside its final name, then renamed: a reader never sees half of it. */
export async function writeAside(file: string, write: (tmp: string) => Promise<void>): Promise<void> {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.part`;
    try {
        await write(tmp);
        fs.renameSync(tmp, file);
    } finally {
        fs.rmSync(tmp, { force: true });
    }
}

/** The HTTP status of an SDK error (S3, Azure and GCS each carry it elsewhere). */
export function statusOf(e: unknown): number | undefined {
    const err = e as { $metadata?: { httpStatusCode?: number }; statusCode?: number; code?: number | string };
    return err.$metadata?.httpStatusCode ?? err.statusCode ?? (typeof err.code === "number" ? err.code : undefined);
}

/** A key's segments: letters, digits, '.', '_', '-' (no '..', no empty segment). */
export function checkKey(key: string): string {
    if (!/^[A-Za-z0-9_+-][A-Za-z0-9._+-]*(\/[A-Za-z0-9_+-][A-Za-z0-9._+-]*)*$/.test(key)) throw new Error(`'${key}' is not a store key`);
    return key;
}

/** A bucket's object name for a key, or a list prefix (may end in '/'), under the store's prefix. */
export function underPrefix(prefix: string, rel: string, isKey = true): string {
    if (isKey) checkKey(rel);
    return prefix ? `${prefix}/${rel}` : rel;
}

/**
 * A local directory: the default store (artifacts/store), or a share every machine mounts.
 * Files of the same file system go in as hard links (no copy of gigabytes): nothing in this
 * program writes into a file once it is made, so a link is as good as a copy.
 */
export class LocalStore implements ObjectStore {
    constructor(
        readonly url: string,
        readonly dir: string,
    ) {}

    file(key: string): string {
        return path.join(this.dir, ...checkKey(key).split("/"));
    }

    async stat(key: string): Promise<ObjectInfo | undefined> {
        const st = fs.statSync(this.file(key), { throwIfNoEntry: false });
        return st?.isFile() ? { key, bytes: st.size, modified: st.mtime, complete: true } : undefined;
    }

    /** A directory has no service to name a version: its files are hashed (undefined). */
    async upload(key: string, file: string, opts: UploadOptions = {}): Promise<string | undefined> {
        await writeAside(this.file(key), async (tmp) => {
            try {
                fs.linkSync(file, tmp);
            } catch {
                // Another file system (a share, the machine's cache elsewhere): a copy, which takes time.
                const from = fs.createReadStream(file);
                let sent = 0;
                if (opts.progress) from.on("data", (d) => opts.progress!((sent += d.length)));
                await pipeline(from, fs.createWriteStream(tmp));
            }
        });
        return undefined;
    }

    async uploadText(key: string, text: string): Promise<void> {
        await writeAside(this.file(key), async (tmp) => fs.writeFileSync(tmp, text));
    }

    async createText(key: string, text: string): Promise<boolean> {
        const file = this.file(key);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.part`;
        try {
            fs.writeFileSync(tmp, text);
            // A link, unlike a rename, never replaces: the first one made stands.
            fs.linkSync(tmp, file);
            return true;
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
            throw e;
        } finally {
            fs.rmSync(tmp, { force: true });
        }
    }

    async readVersioned(key: string): Promise<{ text: string; version: string } | undefined> {
        const text = await this.readText(key);
        return text === undefined ? undefined : { text, version: createHash("sha256").update(text).digest("hex") };
    }

    async replaceText(key: string, text: string, version: string): Promise<boolean> {
        // Compare and rename under a lock of its own (O_EXCL): one writer at a time. A lock left
        // by a killed writer is broken after a minute (a replacement takes milliseconds).
        const file = this.file(key);
        if (!fs.existsSync(file)) return false;
        const lock = `${file}.lock`;
        for (let tries = 0; ; tries++) {
            try {
                fs.writeFileSync(lock, String(process.pid), { flag: "wx" });
                break;
            } catch (e) {
                if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
                const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
                if (age > 60_000) fs.rmSync(lock, { force: true });
                else if (tries > 600) throw new Error(`${lock}: another writer holds it`);
                else await new Promise((r) => setTimeout(r, 100));
            }
        }
        try {
            if ((await this.readVersioned(key))?.version !== version) return false;
            await writeAside(file, async (tmp) => fs.writeFileSync(tmp, text));
            return true;
        } finally {
            fs.rmSync(lock, { force: true });
        }
    }

    async open(key: string): Promise<Readable> {
        return fs.createReadStream(this.file(key));
    }

    async readText(key: string): Promise<string | undefined> {
        try {
            return fs.readFileSync(this.file(key), "utf8");
        } catch {
            return undefined;
        }
    }

    async list(prefix: string): Promise<ObjectInfo[]> {
        const out: ObjectInfo[] = [];
        const walk = (rel: string) => {
            const abs = path.join(this.dir, rel);
            for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
                const r = rel ? `${rel}/${e.name}` : e.name;
                if (e.isDirectory()) walk(r);
                else if (e.isFile() && r.startsWith(prefix)) {
                    const st = fs.statSync(path.join(abs, e.name));
                    // A file written aside is not an object yet: it is listed as incomplete.
                    out.push({ key: r, bytes: st.size, modified: st.mtime, complete: !e.name.endsWith(".part") });
                }
            }
        };
        const top = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
        if (fs.existsSync(path.join(this.dir, top))) walk(top);
        return out.sort((a, b) => a.key.localeCompare(b.key));
    }

    async remove(key: string): Promise<void> {
        // The .part files of a killed upload are removed by key (gc lists them).
        fs.rmSync(path.join(this.dir, ...key.split("/").filter((s) => s && s !== "..")), { force: true });
    }

    location(key: string): ObjectLocation {
        return { kind: "file", path: this.file(key) };
    }
}
