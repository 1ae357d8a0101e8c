// Storage servers on loopback for the store's tests, started by the tests themselves:
//   S3     @20minutes/s3rver 4.0.4, the maintained fork of s3rver (3.7.1 is unmaintained and
//          predates Node 20); credentials S3RVER/S3RVER, path-style requests
//   Azure  Azurite's Blob service, with its published development account
//   GCS    no local server exists here: a fake of the JSON API's calls the adapter makes
//          (resumable and multipart uploads, metadata, media, list, delete), in memory
import { ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { CRC32C } from "@google-cloud/storage";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { repoRoot } from "../../components/recipe/paths";
import { freePort } from "./tools";

// Azurite's published development account (public, documented by Microsoft): not a secret.
export const AZURITE_ACCOUNT = "devstoreaccount1";
export const AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface Server {
    readonly port: number;
    /** What a client of it needs in its environment. */
    readonly env: Record<string, string>;
    stop(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const s = net.connect(port, "127.0.0.1");
        s.once("connect", () => (s.destroy(), resolve(true)));
        s.once("error", () => resolve(false));
    });
}

/** Waits for a child to listen (a loaded 2-core machine: up to 60 s), else fails with its log. */
async function listening(child: ChildProcess, port: number, log: () => string, what: string): Promise<void> {
    const t0 = Date.now();
    while (!(await canConnect(port))) {
        if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}: ${log()}`);
        if (Date.now() - t0 > 300_000) throw new Error(`${what} did not listen on 127.0.0.1:${port} within 300 s (this machine busy?): ${log()}`);
        await new Promise((r) => setTimeout(r, 100));
    }
}

async function stopChild(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
}

/** A server process started and listening on `port` (its output kept for the error if it does not). */
async function serve(command: string, args: string[], port: number, name: string) {
    const child = spawn(command, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    child.stdout!.on("data", (d) => (log += d));
    child.stderr!.on("data", (d) => (log += d));
    await listening(child, port, () => log, name);
    return child;
}

/** Azurite's Blob service on a free port, its data under `dir`. */
export async function startAzurite(dir: string): Promise<Server> {
    const port = await freePort();
    const child = await serve(path.join(repoRoot, "node_modules", ".bin", "azurite-blob"), ["--blobHost", "127.0.0.1", "--blobPort", String(port), "--location", dir, "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry"], port, "azurite");
    return {
        port,
        env: { AZURE_STORAGE_ACCOUNT: AZURITE_ACCOUNT, AZURE_STORAGE_KEY: AZURITE_KEY, AZURE_STORAGE_BLOB_ENDPOINT: `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}` },
        stop: () => stopChild(child),
    };
}

/** s3rver (the maintained fork) in its own process on a free port, with `buckets` made, data under `dir`. */
export async function startS3rver(dir: string, buckets: string[]): Promise<Server> {
    const port = await freePort();
    const script = `
        const S3rver = require("@20minutes/s3rver");
        new S3rver({ port: ${port}, address: "127.0.0.1", directory: ${JSON.stringify(dir)}, silent: true,
            configureBuckets: ${JSON.stringify(buckets.map((name) => ({ name })))} }).run().catch((e) => { console.error(e); process.exit(1); });`;
    const child = await serve(process.execPath, ["-e", script], port, "s3rver");
    return {
        port,
        env: { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "us-east-1" },
        stop: () => stopChild(child),
    };
}

interface FakeObject {
    name: string;
    data: Buffer;
    updated: string;
    contentType?: string;
    /** Custom metadata, as given at the upload's start. */
    metadata?: Record<string, string>;
    /** GCS's generation: a new one with every write of the name. */
    generation?: number;
}

/** A fake of the GCS JSON API calls the GCS adapter makes; `requests` records them. */
export async function startFakeGcs(bucket: string): Promise<Server & { requests: string[]; objects: Map<string, FakeObject> }> {
    const objects = new Map<string, FakeObject>();
    const sessions = new Map<string, { name: string; chunks: Buffer[]; received: number; metadata?: Record<string, string> }>();
    const requests: string[] = [];
    // With the hashes GCS returns: the client checks its upload against them.
    const crc32c = (data: Buffer) => {
        const c = new CRC32C();
        c.update(data);
        return c.toString();
    };
    const meta = (o: FakeObject) => ({
        kind: "storage#object", bucket, name: o.name, size: String(o.data.length), updated: o.updated, contentType: o.contentType, generation: String(o.generation ?? 1),
        md5Hash: createHash("md5").update(o.data).digest("base64"), crc32c: crc32c(o.data),
        ...(o.metadata ? { metadata: o.metadata } : {}),
    });
    const json = (res: http.ServerResponse, status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
    };
    const notFound = (res: http.ServerResponse) => json(res, 404, { error: { code: 404, message: "No such object" } });
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c) => chunks.push(c));
        req.on("end", () => {
            const body = Buffer.concat(chunks);
            const url = new URL(req.url!, "http://x");
            requests.push(`${req.method} ${url.pathname}${url.search}`);
            const objectPath = new RegExp(`^/storage/v1/b/${bucket}/o/(.+)$`).exec(url.pathname);
            if (req.method === "POST" && url.pathname === `/upload/storage/v1/b/${bucket}/o`) {
                if (url.searchParams.get("uploadType") === "resumable") {
                    const id = randomBytes(8).toString("hex");
                    const init = JSON.parse(body.toString() || "{}");
                    sessions.set(id, { name: url.searchParams.get("name") ?? init.name, chunks: [], received: 0, metadata: init.metadata });
                    res.writeHead(200, { location: `http://127.0.0.1:${port}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&upload_id=${id}` });
                    return res.end();
                }
                // multipart/related: the metadata part, then the media part.
                const boundary = /boundary=([^;]+)/.exec(String(req.headers["content-type"]))![1].replace(/"/g, "");
                const parts = body.toString("latin1").split(`--${boundary}`).slice(1, -1);
                const part = (p: string) => p.slice(p.indexOf("\r\n\r\n") + 4, p.length - 2);
                const metadata = JSON.parse(part(parts[0]));
                const o: FakeObject = { name: metadata.name ?? url.searchParams.get("name"), data: Buffer.from(part(parts[1]), "latin1"), updated: new Date().toISOString(), contentType: metadata.contentType, metadata: metadata.metadata };
                // A precondition on the generation (0: only if no object has the name); GCS answers 412.
                const want = url.searchParams.get("ifGenerationMatch");
                const live = objects.get(o.name);
                if (want !== null && Number(want) !== (live?.generation ?? 0)) return json(res, 412, { error: { code: 412, message: "At least one of the pre-conditions you specified did not hold." } });
                o.generation = (live?.generation ?? 0) + 1;
                objects.set(o.name, o);
                return json(res, 200, meta(o));
            }
            if (req.method === "PUT" && url.pathname === `/upload/storage/v1/b/${bucket}/o`) {
                const s = sessions.get(url.searchParams.get("upload_id") ?? "");
                if (!s) return notFound(res);
                s.chunks.push(body);
                s.received += body.length;
                const total = /\/(\d+|\*)$/.exec(String(req.headers["content-range"] ?? ""))?.[1];
                if (total !== undefined && total !== "*" && s.received >= Number(total)) {
                    const o: FakeObject = { name: s.name, data: Buffer.concat(s.chunks), updated: new Date().toISOString(), metadata: s.metadata, generation: (objects.get(s.name)?.generation ?? 0) + 1 };
                    objects.set(o.name, o);
                    sessions.delete(url.searchParams.get("upload_id")!);
                    return json(res, 200, meta(o));
                }
                res.writeHead(308, s.received ? { range: `bytes=0-${s.received - 1}` } : {});
                return res.end();
            }
            if (req.method === "GET" && url.pathname === `/storage/v1/b/${bucket}/o`) {
                const prefix = url.searchParams.get("prefix") ?? "";
                const items = [...objects.values()].filter((o) => o.name.startsWith(prefix)).sort((a, b) => a.name.localeCompare(b.name)).map(meta);
                return json(res, 200, { kind: "storage#objects", items });
            }
            if (objectPath) {
                const o = objects.get(decodeURIComponent(objectPath[1]));
                if (req.method === "DELETE") {
                    if (!o) return notFound(res);
                    objects.delete(o.name);
                    res.writeHead(204);
                    return res.end();
                }
                if (!o) return notFound(res);
                if (url.searchParams.get("alt") === "media") {
                    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(o.data.length) });
                    return res.end(o.data);
                }
                return json(res, 200, meta(o));
            }
            json(res, 400, { error: { code: 400, message: `the fake GCS does not know ${req.method} ${url.pathname}` } });
        });
    });
    const port = await freePort();
    // GCS keeps idle connections open for minutes; Node's 5 s default would close one a client is about to reuse.
    server.keepAliveTimeout = 120_000;
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    return {
        port,
        env: {},
        requests,
        objects,
        stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}
