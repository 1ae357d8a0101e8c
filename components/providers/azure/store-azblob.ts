// Azure Blob Storage: credentials from Azure's usual environment (a connection string, or an
// account and key; AZURE_STORAGE_BLOB_ENDPOINT for Azurite or sovereign clouds). Files go up
// as block blobs (committed at the end), disks for Azure's import as page blobs, writing only
// their non-zero ranges (components/providers/azure/page-blob-upload.ts).
import { Readable } from "stream";
import { BlobServiceClient, ContainerClient } from "@azure/storage-blob";
import { serviceFromEnv, uploadPageBlob } from "./page-blob-upload";
import { ObjectInfo, ObjectLocation, ObjectStore, UploadOptions, underPrefix, statusOf } from "../../store/object-store";

export interface AzureLocation {
    readonly account: string;
    readonly container: string;
    readonly prefix: string;
}

export class AzureBlobStore implements ObjectStore {
    private readonly service: BlobServiceClient;
    private readonly container: ContainerClient;

    constructor(
        readonly url: string,
        private readonly loc: AzureLocation,
        env: NodeJS.ProcessEnv = process.env,
    ) {
        this.service = serviceFromEnv(env);
        if (this.service.accountName && this.service.accountName !== loc.account) {
            throw new Error(`artifactStore ${url}: the credentials in the environment are for account '${this.service.accountName}', not '${loc.account}'`);
        }
        this.container = this.service.getContainerClient(loc.container);
    }

    private under = (prefix: string) => underPrefix(this.loc.prefix, prefix, false);
    private name = (key: string) => underPrefix(this.loc.prefix, key);

    async stat(key: string): Promise<ObjectInfo | undefined> {
        try {
            const p = await this.container.getBlobClient(this.name(key)).getProperties();
            return { key, bytes: p.contentLength ?? 0, modified: p.lastModified ?? new Date(0), complete: p.blobType !== "PageBlob" || Boolean(p.metadata?.sha256), sha256: p.metadata?.sha256, page: p.blobType === "PageBlob", version: p.etag };
        } catch (e) {
            if (statusOf(e) === 404) return undefined;
            throw e;
        }
    }

    async upload(key: string, file: string, opts: UploadOptions = {}): Promise<string | undefined> {
        if (opts.page) {
            // Its sha256 is set last, as computed from what was sent: the mark of a finished page blob.
            const sent = await uploadPageBlob({ file, container: this.loc.container, blob: this.name(key), service: this.service, progress: opts.progress });
            if (opts.sha256 && sent.sha256 !== opts.sha256) throw new Error(`${file} changed while it was uploaded (sha256 ${sent.sha256}, expected ${opts.sha256})`);
            return sent.etag;
        }
        const done = await this.container.getBlockBlobClient(this.name(key)).uploadFile(file, {
            blockSize: 64 * 1024 * 1024,
            concurrency: 4,
            ...(opts.sha256 ? { metadata: { sha256: opts.sha256 } } : {}),
            ...(opts.progress ? { onProgress: (p: { loadedBytes: number }) => opts.progress!(p.loadedBytes) } : {}),
        });
        return done.etag;
    }

    async uploadText(key: string, text: string): Promise<void> {
        await this.container.getBlockBlobClient(this.name(key)).upload(text, Buffer.byteLength(text), { blobHTTPHeaders: { blobContentType: "application/json" } });
    }

    async createText(key: string, text: string): Promise<boolean> {
        try {
            await this.container.getBlockBlobClient(this.name(key)).upload(text, Buffer.byteLength(text), { blobHTTPHeaders: { blobContentType: "application/json" }, conditions: { ifNoneMatch: "*" } });
            return true;
        } catch (e) {
            if (statusOf(e) === 409 || statusOf(e) === 412) return false;
            throw e;
        }
    }

    async readVersioned(key: string): Promise<{ text: string; version: string } | undefined> {
        try {
            const r = await this.container.getBlobClient(this.name(key)).download();
            const chunks: Buffer[] = [];
            for await (const c of r.readableStreamBody as Readable) chunks.push(Buffer.from(c));
            return { text: Buffer.concat(chunks).toString("utf8"), version: String(r.etag) };
        } catch (e) {
            if (statusOf(e) === 404) return undefined;
            throw e;
        }
    }

    async replaceText(key: string, text: string, version: string): Promise<boolean> {
        try {
            await this.container.getBlockBlobClient(this.name(key)).upload(text, Buffer.byteLength(text), { blobHTTPHeaders: { blobContentType: "application/json" }, conditions: { ifMatch: version } });
            return true;
        } catch (e) {
            if (statusOf(e) === 412 || statusOf(e) === 409 || statusOf(e) === 404) return false;
            throw e;
        }
    }

    async open(key: string): Promise<Readable> {
        const r = await this.container.getBlobClient(this.name(key)).download();
        return r.readableStreamBody as Readable;
    }

    async readText(key: string): Promise<string | undefined> {
        return (await this.readVersioned(key))?.text;
    }

    async list(prefix: string): Promise<ObjectInfo[]> {
        const out: ObjectInfo[] = [];
        for await (const b of this.container.listBlobsFlat({ prefix: this.under(prefix), includeMetadata: true })) {
            const key = this.loc.prefix ? b.name.slice(this.loc.prefix.length + 1) : b.name;
            const complete = b.properties.blobType !== "PageBlob" || Boolean(b.metadata?.sha256);
            out.push({ key, bytes: b.properties.contentLength ?? 0, modified: b.properties.lastModified, complete, sha256: b.metadata?.sha256 });
        }
        return out.sort((a, b) => a.key.localeCompare(b.key));
    }

    async remove(key: string): Promise<void> {
        await this.container.getBlobClient(this.name(key)).deleteIfExists();
    }

    location(key: string): ObjectLocation {
        return { kind: "azblob", account: this.loc.account, container: this.loc.container, object: this.name(key) };
    }
}

/** The store of this cloud's storage, as components/store/index.ts opens it by its URL scheme. */
export const openStore = (url: string, loc: ConstructorParameters<typeof AzureBlobStore>[1], env?: NodeJS.ProcessEnv): ObjectStore => new AzureBlobStore(url, loc, env);
