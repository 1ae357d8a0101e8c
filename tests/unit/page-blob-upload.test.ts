// Page-blob upload against a REAL Blob endpoint: Azurite (npm devDependency) started on a free
// loopback port for this file and stopped at the end. Checks that a sparse VHD round-trips
// byte for byte, that zero ranges are really skipped (client count and server page ranges),
// that re-upload resets old pages, that memory stays flat on a big file, delete idempotence,
// credential handling (key never printed) and bad input (exit 2, message names the value).
import assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { BlobServiceClient } from "@azure/storage-blob";
import { deletePageBlob, nonZeroRanges, serviceFromEnv, uploadPageBlob, UploadInputError } from "../../components/providers/azure/page-blob-upload";
import { repoRoot } from "../../components/recipe/paths";
import { run, tempDir, freePort } from "../support/tools";

// Azurite's published development account (public, documented by Microsoft): not a secret.
const ACCOUNT = "devstoreaccount1";
const KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const AZURITE = path.join(repoRoot, "node_modules", ".bin", "azurite-blob");
const CLI = path.join(repoRoot, "components", "providers", "azure", "upload-page-blob.ts");
const MiB = 1024 * 1024;

let azurite: ChildProcess | undefined;
let azuriteLog = "";
let endpoint = "";
let service: BlobServiceClient;
let work = "";


function canConnect(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const s = net.connect(port, "127.0.0.1");
        s.once("connect", () => (s.destroy(), resolve(true)));
        s.once("error", () => resolve(false));
    });
}

before(async () => {
    work = tempDir("pageblob");
    const port = await freePort();
    const t0 = Date.now();
    azurite = spawn(AZURITE, ["--blobHost", "127.0.0.1", "--blobPort", String(port), "--location", path.join(work, "azurite"), "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry"], {
        stdio: ["ignore", "pipe", "pipe"],
    });
    azurite.stdout!.on("data", (d) => (azuriteLog += d));
    azurite.stderr!.on("data", (d) => (azuriteLog += d));
    // ~1 s idle; 15 s seen on a loaded 2-core machine: wait up to 60 s, then fail with its log.
    while (!(await canConnect(port))) {
        if (azurite.exitCode !== null) throw new Error(`azurite exited with ${azurite.exitCode}: ${azuriteLog}`);
        if (Date.now() - t0 > 300_000) throw new Error(`azurite did not listen on 127.0.0.1:${port} within 300 s (this machine busy?): ${azuriteLog}`);
        await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`# azurite listening on ${port} after ${Date.now() - t0} ms`);
    endpoint = `http://127.0.0.1:${port}/${ACCOUNT}`;
    service = serviceFromEnv({ AZURE_STORAGE_ACCOUNT: ACCOUNT, AZURE_STORAGE_KEY: KEY, AZURE_STORAGE_BLOB_ENDPOINT: endpoint });
});

after(async () => {
    if (azurite && azurite.exitCode === null) {
        const exited = new Promise((r) => azurite!.once("exit", r));
        azurite.kill("SIGTERM");
        const timer = setTimeout(() => azurite!.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
    }
    if (work) fs.rmSync(work, { recursive: true, force: true }); // tens of MiB of test disks and blobs
});

/** A sparse file of `size` bytes with `regions` of random bytes at the given offsets. */
function sparseFile(name: string, size: number, regions: Array<[number, number]>): string {
    const file = path.join(work, name);
    const fd = fs.openSync(file, "w");
    fs.ftruncateSync(fd, size);
    for (const [off, len] of regions) fs.writeSync(fd, crypto.randomBytes(len), 0, len, off);
    fs.closeSync(fd);
    return file;
}

const sha256File = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

async function downloadSha256(container: string, blob: string): Promise<string> {
    const res = await service.getContainerClient(container).getBlobClient(blob).download();
    const hash = crypto.createHash("sha256");
    for await (const chunk of res.readableStreamBody!) hash.update(chunk as Buffer);
    return hash.digest("hex");
}

function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", ...extra };
    for (const k of ["AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_BLOB_ENDPOINT"]) if (!(k in extra)) delete env[k];
    return env;
}
const cli = (args: string[], extra: Record<string, string>) => run(process.execPath, ["--require", "ts-node/register", CLI, ...args], { cwd: repoRoot, env: cliEnv(extra) });

test("nonZeroRanges: page-aligned, merges near ranges, splits at the Put Page limit", () => {
    const buf = Buffer.alloc(16 * 512);
    buf[700] = 1; // page 1
    buf[5 * 512] = 1; // page 5: 3 zero pages away
    assert.deepEqual(nonZeroRanges(buf, buf.length, 0), [{ start: 512, end: 1024 }, { start: 2560, end: 3072 }]);
    assert.deepEqual(nonZeroRanges(buf, buf.length), [{ start: 512, end: 3072 }], "gap below mergeGap joined");
    assert.deepEqual(nonZeroRanges(Buffer.alloc(4096), 4096), []);
    const full = Buffer.alloc(8 * 512, 1);
    assert.deepEqual(nonZeroRanges(full, full.length, 65536, 2048), [{ start: 0, end: 2048 }, { start: 2048, end: 4096 }]);
});

test("a sparse 64 MiB + 512 VHD round-trips; zero ranges are not sent", async () => {
    const size = 64 * MiB + 512;
    const regions: Array<[number, number]> = [
        [12345, 5], // odd offset inside one page
        [4 * MiB - 1000, 3000], // straddles a chunk boundary
        [40 * MiB + 77, 700_000], // large, unaligned
        [size - 512, 512], // the VHD footer lives in the last sector
    ];
    const file = sparseFile("disk.vhd", size, regions);
    const t0 = Date.now();
    const res = await uploadPageBlob({ file, container: "images", blob: "centos7/1.4.0/disk.vhd", service });
    console.log(`# upload of ${size} bytes (${res.uploadedBytes} sent) in ${Date.now() - t0} ms`);
    const local = sha256File(file);
    assert.equal(res.bytes, size);
    assert.equal(res.sha256, local);
    assert.equal(res.url, `${endpoint}/images/centos7/1.4.0/disk.vhd`);
    const nonZero = regions.reduce((n, [, len]) => n + len, 0);
    assert.ok(res.uploadedBytes >= nonZero, `uploaded ${res.uploadedBytes} < non-zero bytes ${nonZero}`);
    assert.ok(res.uploadedBytes < size / 32, `uploaded ${res.uploadedBytes} of ${size}: zero ranges were sent`);

    const blob = service.getContainerClient("images").getPageBlobClient("centos7/1.4.0/disk.vhd");
    const props = await blob.getProperties();
    assert.equal(props.blobType, "PageBlob");
    assert.equal(props.contentLength, size);
    assert.equal(props.metadata?.sha256, local);
    // The service agrees: only the ranges we sent hold pages.
    const stored: Array<[number, number]> = [];
    for await (const r of blob.listPageRanges()) stored.push([r.start, r.end]);
    assert.equal(stored.reduce((n, [s, e]) => n + (e - s + 1), 0), res.uploadedBytes, JSON.stringify(stored));
    assert.ok(stored.length <= 6, `expected a few page ranges, got ${JSON.stringify(stored)}`);
    assert.equal(await downloadSha256("images", "centos7/1.4.0/disk.vhd"), local, "downloaded blob == file");

    // Upload a different image over it: pages of the old one must not survive in skipped zeros.
    const file2 = sparseFile("disk2.vhd", 8 * MiB + 512, [[3 * MiB + 1, 100]]);
    const res2 = await uploadPageBlob({ file: file2, container: "images", blob: "centos7/1.4.0/disk.vhd", service, concurrency: 1, chunkSize: 1 * MiB });
    assert.equal(await downloadSha256("images", "centos7/1.4.0/disk.vhd"), sha256File(file2));
    assert.equal(res2.bytes, 8 * MiB + 512);
});

test("memory stays bounded on a 1 GiB file (chunked reads, fixed buffer pool)", async () => {
    const size = 1024 * MiB + 512;
    const file = sparseFile("big.vhd", size, [[100 * MiB + 3, 2 * MiB], [900 * MiB, 4096]]);
    global.gc?.();
    const base = process.memoryUsage().rss;
    let peak = base;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const t0 = Date.now();
    try {
        const res = await uploadPageBlob({ file, container: "images", blob: "big.vhd", service });
        assert.ok(res.uploadedBytes < 3 * MiB, `uploaded ${res.uploadedBytes}`);
    } finally {
        clearInterval(timer);
        fs.rmSync(file);
    }
    const grew = (peak - base) / MiB;
    console.log(`# 1 GiB upload in ${Date.now() - t0} ms, RSS grew by ${grew.toFixed(1)} MiB`);
    // 5 × 4 MiB buffers plus SDK/HTTP overhead; reading the file whole would add 1024 MiB.
    assert.ok(grew < 256, `RSS grew by ${grew.toFixed(1)} MiB during a 1 GiB upload`);
});

test("CLI: upload prints one JSON line, delete is idempotent, the key never appears", async () => {
    const file = sparseFile("cli.vhd", 2 * MiB + 512, [[MiB + 5, 10]]);
    const cs = `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};BlobEndpoint=${endpoint};`;
    const withCs = { AZURE_STORAGE_CONNECTION_STRING: cs };
    const withKey = { AZURE_STORAGE_ACCOUNT: ACCOUNT, AZURE_STORAGE_KEY: KEY, AZURE_STORAGE_BLOB_ENDPOINT: endpoint };

    const up = await cli(["upload", "--file", file, "--container", "cli-test", "--blob", "a.vhd"], withCs);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(up.stdout.trim().split("\n").length, 1);
    const printed = JSON.parse(up.stdout);
    // The ETag Azure gave the blob's last write: what a manifest records of it.
    assert.match(String(printed.etag), /^"0x[0-9A-F]+"$/);
    assert.deepEqual({ ...printed, etag: undefined }, { url: `${endpoint}/cli-test/a.vhd`, bytes: 2 * MiB + 512, uploadedBytes: 512, sha256: sha256File(file), etag: undefined });

    const [del1, del2, del3] = await Promise.all([
        cli(["delete", "--container", "cli-test", "--blob", "a.vhd"], withKey),
        cli(["delete", "--container", "cli-test", "--blob", "never-there.vhd"], withKey),
        cli(["delete", "--container", "no-such-container", "--blob", "a.vhd"], withKey),
    ]);
    for (const r of [del1, del2, del3]) assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(del1.stdout).deleted, true);
    assert.equal(JSON.parse(del2.stdout).deleted, false);
    assert.equal(JSON.parse(del3.stdout).deleted, false);
    assert.equal((await deletePageBlob("cli-test", "a.vhd", service)).deleted, false, "second delete of the same blob");

    // A wrong key: the service refuses (exit 1), and neither key is printed.
    const wrongKey = Buffer.from("not the key".repeat(6)).toString("base64");
    const denied = await cli(["upload", "--file", file, "--container", "cli-test", "--blob", "b.vhd"], { ...withKey, AZURE_STORAGE_KEY: wrongKey });
    assert.equal(denied.code, 1, denied.stdout + denied.stderr);
    assert.match(denied.stderr, /HTTP 403/);
    for (const r of [up, del1, del2, del3, denied]) {
        assert.ok(!(r.stdout + r.stderr).includes(KEY) && !(r.stdout + r.stderr).includes(wrongKey), "key printed");
    }
});

test("bad input: exit 2 naming the value and the valid choices", async () => {
    const odd = sparseFile("odd.vhd", MiB + 100, []);
    const good = sparseFile("good.vhd", MiB + 512, []);
    const withKey = { AZURE_STORAGE_ACCOUNT: ACCOUNT, AZURE_STORAGE_KEY: KEY, AZURE_STORAGE_BLOB_ENDPOINT: endpoint };
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
        [["upload", "--file", odd, "--container", "c1x", "--blob", "x"], withKey, /is 1048676 bytes: a page blob needs a non-zero multiple of 512/],
        [["upload", "--file", good, "--container", "Bad_Name", "--blob", "x"], withKey, /container "Bad_Name" is invalid: 3–63 chars of a-z, 0-9/],
        [["upload", "--file", good, "--container", "c1x", "--blob", "x"], { AZURE_STORAGE_ACCOUNT: ACCOUNT }, /AZURE_STORAGE_KEY not set \(set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT \+ AZURE_STORAGE_KEY/],
        [["upload", "--file", good, "--container", "c1x", "--blob", "x"], { AZURE_STORAGE_CONNECTION_STRING: `AccountKey=${KEY};garbage` }, /AZURE_STORAGE_CONNECTION_STRING is not a valid storage connection string/],
        [["upload", "--file", path.join(work, "missing.vhd"), "--container", "c1x", "--blob", "x"], withKey, /missing\.vhd cannot be read: ENOENT/],
        [["upload", "--file", good, "--container", "c1x"], withKey, /^upload-page-blob upload: --blob is required: the blob's name /],
        [["copy"], withKey, /^upload-page-blob: unknown command: 'copy' is not valid; valid choices: upload, delete /],
        [["upload", "--file", good, "--container", "c1x", "--blob", "x", "--concurrency", "many"], withKey, /^upload-page-blob upload: --concurrency: 'many' is not valid; it must be a whole number \(1-64\)/],
    ];
    // Each CLI start costs ts-node's start-up: two at a time.
    const pending = [...cases];
    const results: Array<{ code: number | null; stdout: string; stderr: string }> = [];
    while (pending.length) results.push(...(await Promise.all(pending.splice(0, 2).map(([a, e]) => cli(a, e)))));
    results.forEach((r, i) => {
        assert.equal(r.code, 2, `${cases[i][0].join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, cases[i][2]);
        assert.equal(r.stdout, "");
        assert.ok(!r.stderr.includes(KEY), "key printed");
    });
    await assert.rejects(uploadPageBlob({ file: good, container: "c1x", blob: "x", service, chunkSize: 1000 }), UploadInputError);
    // Nothing was created on bad input.
    assert.equal(await service.getContainerClient("c1x").exists(), false);
});
