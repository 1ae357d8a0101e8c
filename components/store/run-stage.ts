// One stage, through the store: found by its fingerprint (and verified) or built, then stored.
//   found     the manifest is there and every blob hashes to it: its result is printed, nothing built
//   corrupt   a blob is missing, unfinished or altered: said on stderr, and the stage is built again
//   built     the stage's input is made local (only now: a found stage never reads it), the
//             command runs, its files go up as blobs and its manifest last
// A build whose upload failed is not built again by the retry: its result waits beside its
// directory (DIR.result.json) until it is stored.
// What the user sees (stderr, whole lines: the resource's status in `pulumi up`): a start line
// (the stage, its OS and provider, its fingerprint, where its build logs), the transfers'
// progress, the build's own lines, and an end line: found, built or failed, with the time taken.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { describeLocation, openStore, parseStoreUrl, storeLocation } from ".";
import { ToolId, requireTools } from "../doctor";
import { Log, formatDuration, stderrLog } from "../progress";
import { repoRoot } from "../recipe/paths";
import { LocalStore, ObjectStore, writeAside } from "./object-store";
import { Manifest, StoredFile, localBlob, putStage, uploadFile, useStage, verifyStage } from "./stages";
import { cannotSign, trustedKeys } from "./signing";

export interface RunStage {
    readonly store: ObjectStore;
    /** This machine's copies of blobs of a remote store. */
    readonly cache: LocalStore;
    readonly fingerprint: string;
    readonly stage: string;
    /** The OS and the provider the stage is of (no provider for a base), for the user. */
    readonly os?: string;
    readonly provider?: string;
    /** Where the build writes its log while it runs (it is then stored with the stage). */
    readonly logFile?: string;
    readonly dir: string;
    /** The fingerprint of the stage whose artifact this one reads. */
    readonly input?: string;
    /** The build, a bash command line; it reads its input as $GOLD_INPUT (and _SHA256, _FORMAT). */
    readonly command: string;
    /** Upload the artifact as an Azure page blob (a fixed VHD, when the store is Azure's). */
    readonly pageBlob?: boolean;
    /** What the build needs on this machine (the doctor's checks), checked before it starts. */
    readonly needs?: readonly ToolId[];
    /** Only look: a stage that is not in the store is an error, not a build. */
    readonly noBuild?: boolean;
    readonly log?: Log;
}

/** This machine's copies of a remote store's blobs (GOLD_STORE_CACHE, default artifacts/cache). */
export function machineCache(): LocalStore {
    return new LocalStore("cache", process.env.GOLD_STORE_CACHE ? path.resolve(process.env.GOLD_STORE_CACHE) : path.join(repoRoot, "artifacts", "cache"));
}

/** A stage's manifest, which must be in the store. */
export async function storedStage(store: ObjectStore, fingerprint: string): Promise<Manifest> {
    const { manifest: m, refused } = await useStage(store, fingerprint);
    if (refused) throw new Error(`stage ${fingerprint.slice(0, 12)} in ${store.url} is refused: ${refused}`);
    if (!m) throw new Error(`stage ${fingerprint.slice(0, 12)} is not in ${store.url}: build it first (npm run stage, or pulumi up)`);
    return m;
}

/** A stage's artifact as a file of this machine (from the cache when the store is remote), and its manifest. */
export async function stagedArtifact(storeUrl: string, fingerprint: string): Promise<{ path: string; manifest: Manifest }> {
    const store = openStore(storeUrl);
    const manifest = await storedStage(store, fingerprint);
    return { path: await localBlob(store, machineCache(), mainFile(manifest)), manifest };
}

/** What a stage prints: its manifest's result, where its artifact is, and its fingerprint. */
export function stageOutput(store: ObjectStore, m: Manifest): Record<string, unknown> {
    return { ...m.result, artifact: describeLocation(storeLocation(parseStoreUrl(store.url), m.result.key)), fingerprint: m.fingerprint, store: store.url };
}

// The input stage's small files (a Dockerfile, SHA256SUMS, a descriptor) are read beside its main one.
const COMPANION_MAX_BYTES = 1024 * 1024;

/**
 * The input stage's files at their paths in `dir` ($GOLD_INPUT_DIR): links to this machine's
 * copies of the main file and of every small one (each fetched and hashed like the main file).
 */
async function inputDir(r: RunStage, m: Manifest, main: StoredFile, dir: string, log: Log): Promise<string> {
    fs.rmSync(dir, { recursive: true, force: true });
    for (const f of m.files) {
        if (f.path === "input" || (f.path !== main.path && f.bytes > COMPANION_MAX_BYTES) || f.path.split("/").includes("..")) continue;
        const at = path.join(dir, f.path);
        fs.mkdirSync(path.dirname(at), { recursive: true });
        fs.symlinkSync(await localBlob(r.store, r.cache, f, log), at);
    }
    return dir;
}

/** The artifact's entry of a manifest. */
export function mainFile(m: Manifest): StoredFile {
    return m.files.find((f) => f.key === m.result.key && (f.path === m.result.file || m.result.file === undefined)) ?? m.files.find((f) => f.key === m.result.key)!;
}

/**
 * Credentials a build never gets: the store's and the clouds' (the store CLI alone uses them),
 * the manifest signing key, the CI's OIDC token request (it would mint new credentials), Pulumi's.
 * Packer, Ansible, QEMU and a guest's play see none of them; a role that needs a secret gets it
 * from its own provider settings.
 */
const CREDENTIALS = /^(AWS_|AZURE_|ARM_|GOOGLE_|CLOUDSDK_|GCLOUD_|OS_(AUTH|PASSWORD|CLOUD|TOKEN|APPLICATION_CREDENTIAL|CLIENT_CONFIG_FILE)|PULUMI_|ACTIONS_ID_TOKEN_REQUEST_|ACTIONS_RUNTIME_TOKEN$|GITHUB_TOKEN$|GH_TOKEN$|DOCKER_PASSWORD$|GOLD_STORE_SIGNING_KEY$|GOLD_TARGET_)/;

/** The environment a stage's build runs with: this process's, without CREDENTIALS, plus the stage's own. */
export function buildEnvironment(parent: NodeJS.ProcessEnv, own: Record<string, string>): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(parent)) if (v !== undefined && !CREDENTIALS.test(k)) env[k] = v;
    return { ...env, ...own };
}

function bash(command: string, env: Record<string, string>, cwd: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = spawn("/bin/bash", ["-c", command], { cwd, env: buildEnvironment(process.env, env), stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        // The stage's own signals reach the build (packer-build.sh stops Packer and QEMU).
        const forward = (sig: NodeJS.Signals) => child.kill(sig);
        process.on("SIGINT", forward).on("SIGTERM", forward);
        child.on("error", reject);
        child.on("close", (code, signal) => {
            process.off("SIGINT", forward).off("SIGTERM", forward);
            if (code === 0) resolve(out);
            else reject(new Error(`the build failed (${signal ? `signal ${signal}` : `exit ${code}`})`));
        });
    });
}

/** The stage's first line: what it is, and where its build logs. */
function startLine(r: RunStage): string {
    const of = [r.os && `OS ${r.os}`, r.provider && `provider ${r.provider}`, `fingerprint ${r.fingerprint.slice(0, 12)}`].filter(Boolean).join(", ");
    return `${r.stage}: start: ${of}${r.logFile ? `; a build logs to ${r.logFile} (stored with the stage)` : ""}`;
}

export async function runStage(r: RunStage, cwd: string = process.cwd()): Promise<Record<string, unknown>> {
    const print = r.log ?? stderrLog;
    const log: Log = (line) => print(`${r.stage}: ${line}`);
    const started = Date.now();
    const took = () => formatDuration((Date.now() - started) / 1000);
    print(startLine(r));
    try {
        return await lookOrBuild(r, cwd, log, took);
    } catch (e) {
        log(`failed after ${took()}`);
        throw e;
    }
}

async function lookOrBuild(r: RunStage, cwd: string, log: Log, took: () => string): Promise<Record<string, unknown>> {
    const trusted = trustedKeys();
    const { manifest: found, refused } = await useStage(r.store, r.fingerprint, trusted);
    if (refused) log(`refused from ${r.store.url}: ${refused}; building it again`);
    if (found) {
        const problem = await verifyStage(r.store, found);
        if (!problem) {
            log(`found in ${r.store.url} (${r.fingerprint.slice(0, 12)}), verified in ${took()}: not built`);
            return stageOutput(r.store, found);
        }
        log(`refused from ${r.store.url}: ${problem}; building it again`);
    }
    if (r.noBuild) throw new Error(`${r.stage}: ${r.fingerprint.slice(0, 12)} is not in ${r.store.url} (or does not verify), and building is off`);
    // Hours of building must not start on a machine that lacks a tool the build will need, or
    // whose stage its own readers would refuse (unsigned, or signed by a key they do not trust).
    await requireTools(r.stage, r.needs ?? []);
    const unsignable = cannotSign();
    if (unsignable) throw new Error(`${r.stage}: ${unsignable}`);

    const env: Record<string, string> = {};
    let input: StoredFile | undefined;
    let inputManifest: Manifest | undefined;
    if (r.input) {
        const read = await useStage(r.store, r.input, trusted);
        if (read.refused) throw new Error(`${r.stage}: its input ${r.input.slice(0, 12)} in ${r.store.url} is refused: ${read.refused}`);
        const m = (inputManifest = read.manifest);
        if (!m) throw new Error(`${r.stage}: its input ${r.input.slice(0, 12)} is not in ${r.store.url}: the stage before it must run first`);
        input = mainFile(m);
        env.GOLD_INPUT = await localBlob(r.store, r.cache, input, log);
        env.GOLD_INPUT_SHA256 = input.sha256;
        env.GOLD_INPUT_FORMAT = String(m.result.format ?? "");
    }

    const dir = path.resolve(cwd, r.dir);
    const pending = `${dir}.result.json`;
    let result: Record<string, unknown>;
    if (fs.existsSync(pending) && fs.existsSync(dir)) {
        result = JSON.parse(fs.readFileSync(pending, "utf8"));
        log(`built before, not stored yet: storing it`);
    } else {
        fs.rmSync(pending, { force: true });
        if (inputManifest && input) env.GOLD_INPUT_DIR = await inputDir(r, inputManifest, input, `${dir}.input`, log);
        const out = await bash(r.command, env, cwd).finally(() => env.GOLD_INPUT_DIR && fs.rmSync(env.GOLD_INPUT_DIR, { recursive: true, force: true }));
        try {
            result = JSON.parse(out.trim());
        } catch {
            throw new Error(`${r.stage}: the build printed no JSON result: ${JSON.stringify(out.slice(0, 200))}`);
        }
        if (typeof result.artifact !== "string" || !/^[0-9a-f]{64}$/.test(String(result.sha256))) throw new Error(`${r.stage}: the build's result lacks artifact/sha256: ${out.slice(0, 200)}`);
        await writeAside(pending, async (tmp) => fs.writeFileSync(tmp, JSON.stringify(result)));
    }
    const { manifest, adopted } = await putStage(r.store, { fingerprint: r.fingerprint, stage: r.stage, dir, result, input, pageBlob: r.pageBlob, log });
    if (adopted) log(`another run stored this stage first: its stage stands, this build goes (gc removes its blobs)`);
    // This machine keeps its build in the cache (a remote store's downstream stages read it
    // here); not an adopted stage's: these files are not its.
    if (!(r.store instanceof LocalStore) && !adopted) {
        for (const f of manifest.files) {
            if (f.path === "input") continue;
            const cached = r.cache.file(f.key);
            if (!fs.existsSync(cached)) await uploadFile(r.cache, f.key, path.join(dir, f.path), { log, what: `copy ${f.path} into this machine's cache` });
        }
    }
    // Stored: the build directory was only a place to build in. The mark first: a kill in
    // between leaves a directory no retry stores from (the stage is in the store anyway).
    fs.rmSync(pending, { force: true });
    fs.rmSync(dir, { recursive: true, force: true });
    const logs = manifest.files.map((f) => f.path).filter((p) => p.endsWith(".log"));
    // (npm run stage tells built from found by "built and stored in".)
    log(`built and stored in ${r.store.url} (${r.fingerprint.slice(0, 12)}) in ${took()}${logs.length ? `; ${logs.join(", ")} stored with it` : ""}`);
    return stageOutput(r.store, manifest);
}
