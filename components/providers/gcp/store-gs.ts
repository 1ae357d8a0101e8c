// Google Cloud Storage: credentials from Google's usual environment (application default
// credentials: GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, the
// metadata server); STORAGE_EMULATOR_HOST or ?endpoint= for another JSON API endpoint.
// Uploads are resumable and streamed: an object exists only once its upload has finished.
import { Readable } from "stream";
import { Bucket, Storage } from "@google-cloud/storage";
import { ObjectInfo, ObjectLocation, ObjectStore, UploadOptions, statusOf, underPrefix } from "../../store/object-store";

export interface GcsLocation {
    readonly bucket: string;
    readonly prefix: string;
    /** Another JSON API endpoint (tests). */
    readonly endpoint?: string;
}

export class GcsStore implements ObjectStore {
    private readonly bucket: Bucket;

    constructor(
        readonly url: string,
        private readonly loc: GcsLocation,
    ) {
        const storage = new Storage(loc.endpoint ? { apiEndpoint: loc.endpoint, projectId: "gold-images", token: "test" } as never : {});
        this.bucket = storage.bucket(loc.bucket);
    }

    private under = (prefix: string) => underPrefix(this.loc.prefix, prefix, false);
    private name = (key: string) => underPrefix(this.loc.prefix, key);

    async stat(key: string): Promise<ObjectInfo | undefined> {
        const f = this.bucket.file(this.name(key));
        const [exists] = await f.exists();
        if (!exists) return undefined;
        const [meta] = await f.getMetadata();
        return { key, bytes: Number(meta.size), modified: new Date(String(meta.updated)), complete: true, sha256: meta.metadata?.sha256 as string | undefined, version: meta.generation === undefined ? undefined : String(meta.generation) };
    }

    async upload(key: string, file: string, opts: UploadOptions = {}): Promise<string | undefined> {
        const [, meta] = await this.bucket.upload(file, {
            destination: this.name(key),
            resumable: true,
            chunkSize: 64 * 1024 * 1024,
            ...(opts.sha256 ? { metadata: { metadata: { sha256: opts.sha256 } } } : {}),
            ...(opts.progress ? { onUploadProgress: (e: { bytesWritten: number }) => opts.progress!(e.bytesWritten) } : {}),
        });
        // GCS's generation of this write (a new one at every write of the name).
        const generation = (meta as { generation?: unknown } | undefined)?.generation;
        return generation === undefined ? undefined : String(generation);
    }

    async uploadText(key: string, text: string): Promise<void> {
        await this.bucket.file(this.name(key)).save(text, { resumable: false, contentType: "application/json" });
    }

    async createText(key: string, text: string): Promise<boolean> {
        try {
            // Generation 0: only if no live object has the name.
            await this.bucket.file(this.name(key)).save(text, { resumable: false, contentType: "application/json", preconditionOpts: { ifGenerationMatch: 0 } });
            return true;
        } catch (e) {
            if (statusOf(e) === 412) return false;
            throw e;
        }
    }

    async readVersioned(key: string): Promise<{ text: string; version: string } | undefined> {
        try {
            const [meta] = await this.bucket.file(this.name(key)).getMetadata();
            // The bytes of that generation, not of whatever is live by the time they are read.
            const [data] = await this.bucket.file(this.name(key), { generation: Number(meta.generation) }).download();
            return { text: data.toString("utf8"), version: String(meta.generation) };
        } catch (e) {
            // Gone (or replaced, its generation gone with it) meanwhile: none to judge.
            if (statusOf(e) === 404) return undefined;
            throw e;
        }
    }

    async replaceText(key: string, text: string, version: string): Promise<boolean> {
        try {
            await this.bucket.file(this.name(key)).save(text, { resumable: false, contentType: "application/json", preconditionOpts: { ifGenerationMatch: Number(version) } });
            return true;
        } catch (e) {
            if (statusOf(e) === 412) return false;
            throw e;
        }
    }

    async open(key: string): Promise<Readable> {
        return this.bucket.file(this.name(key)).createReadStream({ validation: false });
    }

    async readText(key: string): Promise<string | undefined> {
        const f = this.bucket.file(this.name(key));
        const [exists] = await f.exists();
        if (!exists) return undefined;
        return (await f.download())[0].toString("utf8");
    }

    async list(prefix: string): Promise<ObjectInfo[]> {
        const [files] = await this.bucket.getFiles({ prefix: this.under(prefix) });
        return files
            .map((f) => ({
                key: this.loc.prefix ? f.name.slice(this.loc.prefix.length + 1) : f.name,
                bytes: Number(f.metadata.size),
                modified: new Date(String(f.metadata.updated)),
                complete: true,
            }))
            .sort((a, b) => a.key.localeCompare(b.key));
    }

    async remove(key: string): Promise<void> {
        await this.bucket.file(this.name(key)).delete({ ignoreNotFound: true });
    }

    location(key: string): ObjectLocation {
        return { kind: "gs", bucket: this.loc.bucket, object: this.name(key) };
    }
}

/** The store of this cloud's storage, as components/store/index.ts opens it by its URL scheme. */
export const openStore = (url: string, loc: ConstructorParameters<typeof GcsStore>[1]): ObjectStore => new GcsStore(url, loc);
