// The artifact store's commands, run by the program's commands and by people:
//   run    one stage: found by fingerprint (and verified) or built and stored (stage commands)
//   update a stage's result printed again (its command's update: another checkout, another store);
//          a result from before the store is stored first, from its directory
//   path   the local path of a stage's artifact (downloaded to this machine's cache if need be)
//   fetch  a stage's artifact on this machine: prints its local path; --to DIR restores all its files
//   place  a stage's artifact at a path (the seed's layout), with NAME.sha256 beside it
//   export a stage's artifact to another object (a cloud's bucket): s3://, azblob://, gs://
//   remove one object by URL (an export's delete)
//   ref    a stack's references (the fingerprints it uses), unref removes one set
//   gc     removes what no reference names (a dry run unless --delete yes)
// Credentials: each cloud's usual environment. stdout: one JSON line; stderr: what is going on
// (run: the stage's start and end; transfers: their progress). Exit 0 ok, 2 bad input, 1 failure.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseSubcommand } from "../components/cli/subcommand";
import { ToolId, toolIds } from "../components/doctor";
import { openObject, openStore, parseStoreUrl, storeUrlProblem } from "../components/store";
import { fingerprintsOfExport, gc, writeRefs } from "../components/store/gc";
import { machineCache, mainFile, runStage, stageOutput, storedStage } from "../components/store/run-stage";
import { Manifest, localBlob, putStage, readManifest, restoreStage, uploadFile, verifyStage } from "../components/store/stages";
import { stderrLog } from "../components/progress";

class InputError extends Error {}

const COMMANDS = {
    run: { required: ["store", "fingerprint", "stage", "dir", "command"], optional: ["input", "page-blob", "os", "provider", "log", "needs"] },
    update: { required: ["store", "fingerprint", "stage"], optional: ["input", "page-blob"] },
    path: { required: ["store", "fingerprint"], optional: [] },
    fetch: { required: ["store", "fingerprint"], optional: ["to"] },
    place: { required: ["store", "fingerprint", "to"], optional: [] },
    export: { required: ["store", "fingerprint", "to"], optional: ["page-blob", "previous"] },
    remove: { required: ["url"], optional: [] },
    ref: { required: ["store", "stack", "fingerprints"], optional: [] },
    unref: { required: ["store", "key"], optional: [] },
    gc: { required: ["store"], optional: ["min-age-hours", "delete", "keep-from-export"] },
} as const;

const USAGE = `usage: store.ts <${Object.keys(COMMANDS).join("|")}> --store URL …  (see the header of scripts/store.ts)`;

const cache = machineCache;

/**
 * The credentials of an export's target when they are not the store's: GOLD_TARGET_<NAME>
 * replaces <NAME> (e.g. the publishing Azure account's key, while the store is in another).
 * A target's credentials replace the store's whole set, so none of the store's mix in.
 */
const CREDENTIAL_SETS = [["AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY"]];
function targetEnv(): NodeJS.ProcessEnv {
    const prefix = "GOLD_TARGET_";
    const own = Object.entries(process.env).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v] as const);
    if (own.length === 0) return process.env;
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const set of CREDENTIAL_SETS) if (own.some(([k]) => set.includes(k))) for (const k of set) delete env[k];
    for (const [k, v] of own) env[k] = v;
    return env;
}

function yes(value: string | undefined, option: string): boolean {
    if (value === undefined || value === "no") return false;
    if (value === "yes") return true;
    throw new InputError(`--${option} '${value}': valid choices: yes, no`);
}

const stage = (storeUrl: string, fingerprint: string): Promise<Manifest> => storedStage(openStore(storeUrl), fingerprint);

async function linkOrCopy(from: string, to: string): Promise<void> {
    fs.mkdirSync(path.dirname(to), { recursive: true });
    const tmp = `${to}.${process.pid}.part`;
    fs.rmSync(tmp, { force: true });
    try {
        fs.linkSync(from, tmp);
    } catch {
        fs.copyFileSync(from, tmp);
    }
    fs.renameSync(tmp, to);
}

/** The previous result of a stage command ($PULUMI_COMMAND_STDOUT), printed again for this store. */
async function update(storeUrl: string, fingerprint: string, name: string, input?: string, pageBlob = false): Promise<unknown> {
    const store = openStore(storeUrl);
    let old: Record<string, unknown>;
    try {
        old = JSON.parse(process.env.PULUMI_COMMAND_STDOUT ?? "");
    } catch {
        throw new Error(`${name}: no previous result in PULUMI_COMMAND_STDOUT`);
    }
    const m = await readManifest(store, fingerprint);
    if (m) {
        const bad = await verifyStage(store, m);
        if (bad) throw new Error(`${name}: the stored stage ${fingerprint.slice(0, 12)} cannot be trusted (${bad}): build it again with pulumi up --replace`);
        return stageOutput(store, m);
    }
    if (typeof old.key === "string") {
        throw new Error(`${name}: ${fingerprint.slice(0, 12)} is not in ${storeUrl}: copy the previous store's stages/ and blobs/ there, or build it again (pulumi up --replace)`);
    }
    // Built before the store: its files are in the directory of its artifact, on the machine that built it.
    const artifact = String(old.artifact);
    if (!fs.existsSync(artifact)) {
        throw new Error(`${name}: built before the artifact store, at ${artifact}, which this machine does not have: run pulumi up on that machine once, or build it again (pulumi up --replace)`);
    }
    const inputFile = input ? mainFile(await stage(storeUrl, input)) : undefined;
    // A test's artifact is its input (the conversion's image); its own report stays where it is.
    const own = !(inputFile && inputFile.sha256 === old.sha256);
    const dir = own ? path.dirname(artifact) : fs.mkdtempSync(path.join(os.tmpdir(), "gold-adopt-"));
    try {
        return stageOutput(store, (await putStage(store, { fingerprint, stage: name, dir, result: old, input: inputFile, pageBlob, log: stderrLog })).manifest);
    } finally {
        if (!own) fs.rmSync(dir, { recursive: true, force: true });
    }
}

async function main(argv: string[]): Promise<unknown> {
    const { command, values: v, given } = parseSubcommand(argv, COMMANDS, USAGE, (m) => new InputError(m));
    for (const u of [v.store, v.url].filter((x): x is string => x !== undefined)) {
        try {
            parseStoreUrl(u);
        } catch (e) {
            throw new InputError((e as Error).message);
        }
    }
    let needs: ToolId[] = [];
    try {
        needs = toolIds(given.needs ?? "");
    } catch (e) {
        throw new InputError((e as Error).message);
    }
    switch (command) {
        case "run":
            return runStage({
                store: openStore(v.store),
                cache: cache(),
                fingerprint: v.fingerprint,
                stage: v.stage,
                os: given.os,
                provider: given.provider,
                logFile: given.log,
                dir: v.dir,
                input: given.input,
                command: v.command,
                pageBlob: yes(given["page-blob"], "page-blob") && parseStoreUrl(v.store).kind === "azblob",
                noBuild: process.env.GOLD_STAGE_NO_BUILD === "1",
                needs,
            });
        case "update":
            return update(v.store, v.fingerprint, v.stage, given.input, yes(given["page-blob"], "page-blob") && parseStoreUrl(v.store).kind === "azblob");
        case "path": {
            const m = await stage(v.store, v.fingerprint);
            return localBlob(openStore(v.store), cache(), mainFile(m), stderrLog);
        }
        case "fetch": {
            const store = openStore(v.store);
            const m = await stage(v.store, v.fingerprint);
            if (given.to) {
                await restoreStage(store, cache(), m, path.resolve(given.to), stderrLog);
                return { dir: path.resolve(given.to), file: m.result.file, sha256: m.result.sha256 };
            }
            return { path: await localBlob(store, cache(), mainFile(m), stderrLog), sha256: m.result.sha256 };
        }
        case "place": {
            const store = openStore(v.store);
            const m = await stage(v.store, v.fingerprint);
            const to = path.resolve(v.to);
            await linkOrCopy(await localBlob(store, cache(), mainFile(m), stderrLog), to);
            fs.writeFileSync(`${to}.sha256`, `${m.result.sha256}  ${path.basename(to)}\n`);
            return { path: to, sha256: m.result.sha256 };
        }
        case "export": {
            const store = openStore(v.store);
            const m = await stage(v.store, v.fingerprint);
            const target = openObject(v.to, targetEnv());
            const file = mainFile(m);
            const there = await target.store.stat(target.key);
            // Keyed by content: an export of the same sha256 is not sent again.
            if (!(there?.complete && there.bytes === file.bytes && (there.sha256 ?? file.sha256) === file.sha256)) {
                const local = await localBlob(store, cache(), file, stderrLog);
                await uploadFile(target.store, target.key, local, { page: yes(given["page-blob"], "page-blob"), sha256: file.sha256, log: stderrLog });
            }
            // An update to another target: the previous copy (a URL this command made) goes.
            const previous = given.previous ? (JSON.parse(given.previous) as { url?: unknown }).url : undefined;
            if (typeof previous === "string" && previous !== v.to && !storeUrlProblem(previous) && parseStoreUrl(previous).kind !== "file") {
                const old = openObject(previous, targetEnv());
                await old.store.remove(old.key);
            }
            return { url: v.to, location: target.store.location(target.key), sha256: file.sha256, bytes: file.bytes };
        }
        case "remove": {
            const target = openObject(v.url, targetEnv());
            await target.store.remove(target.key);
            return { url: v.url, removed: true };
        }
        case "ref": {
            const fps = v.fingerprints.split(",").filter(Boolean);
            return { key: await writeRefs(openStore(v.store), v.stack, fps), fingerprints: fps.length };
        }
        case "unref": {
            if (!/^refs\/[A-Za-z0-9._-]+\/[0-9a-f]{16}\.json$/.test(v.key)) throw new InputError(`--key '${v.key}' is not a references key (refs/<stack>/<hash>.json)`);
            await openStore(v.store).remove(v.key);
            return { key: v.key, removed: true };
        }
        case "gc": {
            const hours = given["min-age-hours"] ?? "72";
            if (!/^\d{1,5}$/.test(hours)) throw new InputError(`--min-age-hours '${hours}' is not a whole number of hours`);
            const keep = (given["keep-from-export"] ?? "").split(",").filter(Boolean).flatMap((f) => fingerprintsOfExport(JSON.parse(fs.readFileSync(f, "utf8"))));
            return gc(openStore(v.store), { minAgeHours: Number(hours), apply: yes(given.delete, "delete"), keep });
        }
    }
}

main(process.argv.slice(2))
    .then((out) => process.stdout.write((typeof out === "string" ? out : JSON.stringify(out)) + "\n"))
    .catch((e: unknown) => {
        const err = e as { message?: string };
        process.stderr.write(`store: ${err.message ?? String(e)}\n`);
        process.exitCode = e instanceof InputError ? 2 : 1;
    });
