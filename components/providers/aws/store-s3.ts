// S3, and S3-compatible servers (an endpoint): credentials from AWS's usual environment
// (AWS_ACCESS_KEY_ID/…, AWS_PROFILE, an instance role). Uploads are multipart and streamed.
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import * as fs from "fs";
import { Readable } from "stream";
import { ObjectInfo, ObjectLocation, ObjectStore, UploadOptions, underPrefix, statusOf } from "../../store/object-store";

export interface S3Location {
    readonly bucket: string;
    readonly prefix: string;
    readonly region?: string;
    /** An S3-compatible server (path-style requests). */
    readonly endpoint?: string;
}

export class S3Store implements ObjectStore {
    private readonly client: S3Client;

    constructor(
        readonly url: string,
        private readonly loc: S3Location,
    ) {
        this.client = new S3Client({
            region: loc.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1",
            ...(loc.endpoint ? { endpoint: loc.endpoint, forcePathStyle: true } : {}),
            // S3-compatible servers do not all know the newer default checksums.
            requestChecksumCalculation: "WHEN_REQUIRED",
            responseChecksumValidation: "WHEN_REQUIRED",
        });
        if (loc.endpoint) {
            // A bucket-level request (a listing) as /bucket, not /bucket/: both are S3, and some
            // S3-compatible servers (s3rver) sign only the first.
            this.client.middlewareStack.add(
                (next) => async (args) => {
                    const req = args.request as { path?: string };
                    if (req.path && /^\/[^/]+\/$/.test(req.path)) req.path = req.path.slice(0, -1);
                    return next(args);
                },
                { step: "build", name: "goldBucketPath" },
            );
        }
    }

    private under = (prefix: string) => underPrefix(this.loc.prefix, prefix, false);
    private key = (key: string) => underPrefix(this.loc.prefix, key);

    async stat(key: string): Promise<ObjectInfo | undefined> {
        try {
            const r = await this.client.send(new HeadObjectCommand({ Bucket: this.loc.bucket, Key: this.key(key) }));
            return { key, bytes: r.ContentLength ?? 0, modified: r.LastModified ?? new Date(0), complete: true, sha256: r.Metadata?.sha256, version: r.ETag };
        } catch (e) {
            if (statusOf(e) === 404) return undefined;
            throw e;
        }
    }

    async upload(key: string, file: string, opts: UploadOptions = {}): Promise<string | undefined> {
        // Multipart from a stream: parts of 64 MiB, four at a time; an interrupted upload leaves
        // no object (its parts are invisible, and expire under the bucket's lifecycle rule).
        const upload = new Upload({
            client: this.client,
            params: { Bucket: this.loc.bucket, Key: this.key(key), Body: fs.createReadStream(file), ...(opts.sha256 ? { Metadata: { sha256: opts.sha256 } } : {}) },
            partSize: 64 * 1024 * 1024,
            queueSize: 4,
        });
        // In Node the SDK reports each part as it completes (64 MiB steps), not bytes on the wire.
        if (opts.progress) upload.on("httpUploadProgress", (p) => opts.progress!(p.loaded ?? 0));
        // The ETag S3 computed of what it received (MD5 of the bytes, or of the parts' MD5s).
        return (await upload.done()).ETag;
    }

    async uploadText(key: string, text: string): Promise<void> {
        await this.client.send(new PutObjectCommand({ Bucket: this.loc.bucket, Key: this.key(key), Body: text, ContentType: "application/json" }));
    }

    async createText(key: string, text: string): Promise<boolean> {
        // S3 refuses the write when the key exists (If-None-Match, conditional writes). Servers
        // that ignore the header (s3rver) leave only the window between this HEAD and the PUT.
        if (await this.stat(key)) return false;
        try {
            await this.client.send(new PutObjectCommand({ Bucket: this.loc.bucket, Key: this.key(key), Body: text, ContentType: "application/json", IfNoneMatch: "*" }));
            return true;
        } catch (e) {
            if (statusOf(e) === 412 || statusOf(e) === 409) return false;
            throw e;
        }
    }

    async readVersioned(key: string): Promise<{ text: string; version: string } | undefined> {
        try {
            const r = await this.client.send(new GetObjectCommand({ Bucket: this.loc.bucket, Key: this.key(key) }));
            return { text: await r.Body!.transformToString(), version: String(r.ETag) };
        } catch (e) {
            if (statusOf(e) === 404) return undefined;
            throw e;
        }
    }

    async replaceText(key: string, text: string, version: string): Promise<boolean> {
        // S3 refuses the write when the object's ETag is no longer this one (If-Match). Servers
        // that ignore the header (s3rver) leave only the window between this HEAD and the PUT.
        try {
            const head = await this.client.send(new HeadObjectCommand({ Bucket: this.loc.bucket, Key: this.key(key) }));
            if (String(head.ETag) !== version) return false;
            await this.client.send(new PutObjectCommand({ Bucket: this.loc.bucket, Key: this.key(key), Body: text, ContentType: "application/json", IfMatch: version }));
            return true;
        } catch (e) {
            if (statusOf(e) === 412 || statusOf(e) === 409 || statusOf(e) === 404) return false;
            throw e;
        }
    }

    async open(key: string): Promise<Readable> {
        const r = await this.client.send(new GetObjectCommand({ Bucket: this.loc.bucket, Key: this.key(key) }));
        return r.Body as Readable;
    }

    async readText(key: string): Promise<string | undefined> {
        return (await this.readVersioned(key))?.text;
    }

    async list(prefix: string): Promise<ObjectInfo[]> {
        const out: ObjectInfo[] = [];
        let token: string | undefined;
        do {
            const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.loc.bucket, Prefix: this.under(prefix), ContinuationToken: token }));
            for (const o of r.Contents ?? []) {
                const key = this.loc.prefix ? o.Key!.slice(this.loc.prefix.length + 1) : o.Key!;
                out.push({ key, bytes: o.Size ?? 0, modified: o.LastModified ?? new Date(0), complete: true });
            }
            token = r.IsTruncated ? r.NextContinuationToken : undefined;
        } while (token);
        return out.sort((a, b) => a.key.localeCompare(b.key));
    }

    async remove(key: string): Promise<void> {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.loc.bucket, Key: this.key(key) }));
    }

    location(key: string): ObjectLocation {
        return { kind: "s3", bucket: this.loc.bucket, object: this.key(key) };
    }
}

/** The store of this cloud's storage, as components/store/index.ts opens it by its URL scheme. */
export const openStore = (url: string, loc: ConstructorParameters<typeof S3Store>[1]): ObjectStore => new S3Store(url, loc);
