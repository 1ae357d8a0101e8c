// Uploads a fixed VHD to Azure Blob storage as a PAGE blob (the only kind Azure makes disks
// and images from). azure-native's storage.Blob cannot create page blobs and reads the whole
// file into memory, so this streams: the file is read sequentially in chunks, each chunk is
// scanned for all-zero 512-byte pages, and only the non-zero ranges are sent — a new page
// blob reads as zeros wherever nothing was written, and a zero-filled image is mostly zeros.
// Memory stays at (concurrency + 1) chunk buffers whatever the file size.
import { BlobServiceClient, PageBlobClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import * as crypto from "crypto";
import * as fs from "fs";

export const PAGE = 512; // page blob granularity: sizes and write offsets must be multiples
export const MAX_PUT_PAGES = 4 * 1024 * 1024; // service limit for one Put Page call
export const MAX_PAGE_BLOB = 8 * 1024 ** 4; // 8 TiB service limit

/** Bad input or configuration (exit code 2 in the CLI), as opposed to service/I/O failures. */
export class UploadInputError extends Error {}

export const DEV_ACCOUNT_HINT = "AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY (+ optional AZURE_STORAGE_BLOB_ENDPOINT)";

/**
 * A client from the environment. Only variable names appear in errors: the key and the
 * connection string (which holds the key) are never echoed.
 */
export function serviceFromEnv(env: NodeJS.ProcessEnv = process.env): BlobServiceClient {
    const cs = env.AZURE_STORAGE_CONNECTION_STRING;
    if (cs) {
        try {
            return BlobServiceClient.fromConnectionString(cs);
        } catch (e) {
            // The SDK's message may quote the string; say only which variable is wrong.
            throw new UploadInputError("AZURE_STORAGE_CONNECTION_STRING is not a valid storage connection string");
        }
    }
    const account = env.AZURE_STORAGE_ACCOUNT;
    const key = env.AZURE_STORAGE_KEY;
    if (!account || !key) {
        const missing = [!account && "AZURE_STORAGE_ACCOUNT", !key && "AZURE_STORAGE_KEY"].filter(Boolean).join(" and ");
        throw new UploadInputError(`no storage credentials: ${missing} not set (set ${DEV_ACCOUNT_HINT})`);
    }
    const endpoint = env.AZURE_STORAGE_BLOB_ENDPOINT || `https://${account}.blob.core.windows.net`;
    try {
        new URL(endpoint);
    } catch {
        throw new UploadInputError(`AZURE_STORAGE_BLOB_ENDPOINT ${JSON.stringify(endpoint)} is not a URL (e.g. https://ACCOUNT.blob.core.windows.net)`);
    }
    let cred: StorageSharedKeyCredential;
    try {
        cred = new StorageSharedKeyCredential(account, key);
    } catch {
        throw new UploadInputError("AZURE_STORAGE_KEY is not a base64 account key");
    }
    return new BlobServiceClient(endpoint, cred);
}

// Azure's rules, checked here so a typo fails before any byte is read or sent.
export function validateContainer(c: string): string {
    if (!/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(c)) {
        throw new UploadInputError(`container ${JSON.stringify(c)} is invalid: 3–63 chars of a-z, 0-9 and single hyphens, starting and ending with a letter or digit`);
    }
    return c;
}

export function validateBlobName(b: string): string {
    if (b.length < 1 || b.length > 1024 || b.endsWith("/") || b.endsWith(".")) {
        throw new UploadInputError(`blob name ${JSON.stringify(b)} is invalid: 1–1024 chars, not ending in "/" or "."`);
    }
    return b;
}

export interface Range {
    start: number; // inclusive, relative to the buffer
    end: number; // exclusive
}

const ZERO_PAGE = Buffer.alloc(PAGE);

/**
 * Non-zero ranges of buf[0, length), page-aligned. Ranges closer than `mergeGap` are joined:
 * sending a few zero pages costs less than another HTTP round trip, and zeros written are
 * still zeros. No range exceeds maxRange (the Put Page limit).
 */
export function nonZeroRanges(buf: Buffer, length: number, mergeGap = 64 * 1024, maxRange = MAX_PUT_PAGES): Range[] {
    const ranges: Range[] = [];
    let cur: Range | undefined;
    for (let off = 0; off < length; off += PAGE) {
        const end = Math.min(off + PAGE, length);
        // Buffer.compare is a memcmp: fast enough to scan GiBs without a dent in upload time.
        if (buf.compare(ZERO_PAGE, 0, end - off, off, end) === 0) continue;
        if (cur && off - cur.end <= mergeGap && end - cur.start <= maxRange) cur.end = end;
        else ranges.push((cur = { start: off, end }));
    }
    return ranges;
}

export interface UploadOptions {
    file: string;
    container: string;
    blob: string;
    chunkSize?: number; // bytes read per step; multiple of 512, at most 4 MiB
    concurrency?: number; // Put Page calls in flight
    service?: BlobServiceClient;
    /** Told the bytes of the file done so far (sent, or skipped as zeros), in file order or not. */
    progress?: (bytesDone: number) => void;
}

export interface UploadResult {
    url: string;
    bytes: number;
    uploadedBytes: number;
    sha256: string;
    /** The blob's ETag after its last write (the metadata that marks it finished), as Azure answered it. */
    etag?: string;
}

export function checkVhdSize(file: string, size: number): void {
    // Azure also wants a whole number of MiB plus the 512-byte VHD footer for disks; the
    // convert stage guarantees that. Here only the page-blob rule itself is enforced.
    if (size === 0 || size % PAGE !== 0) {
        throw new UploadInputError(`file ${file} is ${size} bytes: a page blob needs a non-zero multiple of ${PAGE} (a fixed VHD is N MiB + 512)`);
    }
    if (size > MAX_PAGE_BLOB) throw new UploadInputError(`file ${file} is ${size} bytes: page blobs hold at most 8 TiB`);
}

/** Creates (or overwrites) the page blob and fills in the non-zero pages of `file`. */
export async function uploadPageBlob(opts: UploadOptions): Promise<UploadResult> {
    const chunkSize = opts.chunkSize ?? MAX_PUT_PAGES;
    const concurrency = opts.concurrency ?? 4;
    if (chunkSize % PAGE !== 0 || chunkSize <= 0 || chunkSize > MAX_PUT_PAGES) {
        throw new UploadInputError(`chunkSize ${chunkSize} must be a multiple of ${PAGE} up to ${MAX_PUT_PAGES}`);
    }
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
        throw new UploadInputError(`concurrency ${concurrency} must be an integer from 1 to 64`);
    }
    validateContainer(opts.container);
    validateBlobName(opts.blob);
    let stat: fs.Stats;
    try {
        stat = fs.statSync(opts.file);
    } catch (e) {
        throw new UploadInputError(`file ${opts.file} cannot be read: ${(e as NodeJS.ErrnoException).code}`);
    }
    if (!stat.isFile()) throw new UploadInputError(`file ${opts.file} is not a regular file`);
    const size = stat.size;
    checkVhdSize(opts.file, size);

    const service = opts.service ?? serviceFromEnv();
    const container = service.getContainerClient(opts.container);
    await container.createIfNotExists();
    const blob = container.getPageBlobClient(opts.blob);
    // Put Blob replaces any previous blob of that name whole, so stale pages from an older
    // upload cannot survive in the zero ranges we skip.
    await blob.create(size);

    const hash = crypto.createHash("sha256");
    const fh = await fs.promises.open(opts.file, "r");
    let uploadedBytes = 0;
    try {
        uploadedBytes = await pump(fh, size, chunkSize, concurrency, hash, blob, opts.progress);
    } finally {
        await fh.close();
    }
    const sha256 = hash.digest("hex");
    // Recorded on the blob so a later run (or a person) can check the upload without the file.
    const marked = await blob.setMetadata({ sha256 });
    return { url: blob.url, bytes: size, uploadedBytes, sha256, etag: marked.etag };
}

/**
 * One sequential reader (good for disks, and the hash needs file order) hands chunks to at
 * most `concurrency` uploads; a fixed pool of buffers is the back-pressure, so memory is
 * bounded by (concurrency + 1) × chunkSize. The first failure stops reading and aborts the rest.
 */
async function pump(fh: fs.promises.FileHandle, size: number, chunkSize: number, concurrency: number, hash: crypto.Hash, blob: PageBlobClient, progress?: (bytesDone: number) => void): Promise<number> {
    const free: Buffer[] = Array.from({ length: concurrency + 1 }, () => Buffer.alloc(chunkSize));
    const waiters: Array<() => void> = [];
    const release = (b: Buffer) => {
        free.push(b);
        waiters.shift()?.();
    };
    const take = async (): Promise<Buffer> => {
        while (free.length === 0) await new Promise<void>((r) => waiters.push(r));
        return free.pop()!;
    };
    const abort = new AbortController();
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    let uploaded = 0;
    // Chunks finish out of order: what is done is the sum of the finished ones.
    let done = 0;
    const finished = (bytes: number) => progress?.((done += bytes));

    try {
        for (let pos = 0; pos < size && failure === undefined; pos += chunkSize) {
            const buf = await take();
            const want = Math.min(chunkSize, size - pos);
            let got = 0;
            while (got < want) {
                const { bytesRead } = await fh.read(buf, got, want - got, pos + got);
                if (bytesRead === 0) throw new Error(`file shrank while reading: expected ${size} bytes, ended at ${pos + got}`);
                got += bytesRead;
            }
            hash.update(buf.subarray(0, want));
            const ranges = nonZeroRanges(buf, want);
            if (ranges.length === 0) {
                release(buf);
                finished(want);
                continue;
            }
            // N+1 buffers let the next read overlap N uploads; the uploads themselves stay at N.
            while (inFlight.size >= concurrency) await Promise.race(inFlight);
            const task = (async () => {
                try {
                    for (const r of ranges) {
                        await blob.uploadPages(buf.subarray(r.start, r.end), pos + r.start, r.end - r.start, { abortSignal: abort.signal });
                        uploaded += r.end - r.start;
                    }
                    finished(want);
                } catch (e) {
                    if (failure === undefined) failure = e;
                    abort.abort();
                } finally {
                    release(buf);
                }
            })();
            inFlight.add(task);
            void task.finally(() => inFlight.delete(task));
        }
    } catch (e) {
        // A read error: stop the uploads already sent off before handing the error on.
        if (failure === undefined) failure = e;
        abort.abort();
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    return uploaded;
}

/** Deletes the blob and its snapshots; a missing blob (or container) is success. */
export async function deletePageBlob(container: string, blobName: string, service: BlobServiceClient = serviceFromEnv()): Promise<{ url: string; deleted: boolean }> {
    validateContainer(container);
    validateBlobName(blobName);
    const blob = service.getContainerClient(container).getBlobClient(blobName);
    try {
        const res = await blob.deleteIfExists({ deleteSnapshots: "include" });
        return { url: blob.url, deleted: res.succeeded };
    } catch (e) {
        // deleteIfExists covers BlobNotFound; a missing container is the same "already gone".
        if ((e as { code?: string }).code === "ContainerNotFound") return { url: blob.url, deleted: false };
        throw e;
    }
}
