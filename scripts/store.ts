// The artifact store's commands, run by the program's commands and by people: run, update,
// path, fetch, place, export, remove, ref, unref, gc (each described in COMMANDS below, which
// `npm run store -- --help` prints; `<command> --help` gives its options).
// Credentials: each cloud's usual environment. stdout: one JSON line; stderr: what is going on
// (run: the stage's start and end; transfers: their progress). Exit 0 ok, 2 bad input, 1 failure.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { matches, OptionSpec, parseSubcommandOrExit, runMain, UsageError } from "../components/cli/args";
import { openObject, openStore, parseStoreUrl, storeUrlProblem } from "../components/store";
import { fingerprintsOfExport, gc, writeRefs } from "../components/store/gc";
import { machineCache, mainFile, runStage, stageOutput, storedStage } from "../components/store/run-stage";
import { FINGERPRINT, Manifest, localBlob, localStoreProblem, putStage, restoreStage, uploadFile, useStage, verifyStage } from "../components/store/stages";
import { toolIds, unknownTool } from "../components/doctor";
import { stderrLog } from "../components/progress";

const PROGRAM = {
    name: "store",
    run: "npm run store --",
    summary: "The artifact store's commands (stdout: one JSON line; credentials: each cloud's usual environment).",
    examples: ["npm run store -- gc --store artifacts/store", "npm run store -- path --store artifacts/store --fingerprint <64 hex digits>"],
};

// The options the commands share, declared once.
const isFingerprint = matches(FINGERPRINT, "a stage fingerprint (64 lowercase hex digits)");
const fingerprint = (help: string): OptionSpec => ({ help, value: "HEX", check: isFingerprint });
const O = {
    store: { help: "the store: a directory, s3://, azblob:// or gs:// URL", required: true, value: "URL", example: "artifacts/store", check: storeUrlProblem },
    fingerprint: { ...fingerprint("the stage's fingerprint"), required: true },
    stage: { help: "the stage's name in the program, e.g. Rocky-9.8-aws", required: true, value: "NAME" },
    input: fingerprint("the fingerprint of the stage whose artifact this one takes as input"),
    pageBlob: { help: "store the artifact as an Azure page blob (azblob stores only)", value: "yes|no", choices: ["yes", "no"] },
    to: { help: "where to put it", required: true, value: "PATH" },
} as const satisfies Record<string, OptionSpec>;

/**
 * gc's store must be one already: a mistyped directory would look like an empty store, and the
 * report would say nothing is to be removed. Only gc checks: the other commands are the
 * program's, and a store not made yet is theirs to make.
 */
function gcStoreProblem(url: string): string | undefined {
    const problem = storeUrlProblem(url);
    if (problem) return problem;
    const spec = parseStoreUrl(url);
    return spec.kind === "file" ? localStoreProblem(spec.dir) : undefined;
}

const COMMANDS = {
    run: {
        summary: "one stage: found by fingerprint (and verified) or built and stored (the stage commands)",
        options: { store: O.store, fingerprint: O.fingerprint, stage: O.stage, dir: { help: "the directory the build writes", required: true, value: "DIR" }, command: { help: "the build's shell command", required: true, value: "SCRIPT" },
            input: O.input,
            "page-blob": O.pageBlob,
            os: { help: "the stage's OS, for its progress lines", value: "ID" },
            provider: { help: "the stage's provider, for its progress lines", value: "NAME" },
            log: { help: "where the build writes its log while it runs (said at its start)", value: "PATH" },
            needs: { help: "the doctor's checks the build needs, run before it builds (npm run doctor)", value: "TOOL,...", check: unknownTool },
        },
        examples: ["npm run store -- run --store artifacts/store --fingerprint <hex> --stage Rocky-9.8-base --dir artifacts/x --command 'scripts/packer-build.sh …'"],
    },
    update: {
        summary: "a stage's result printed again (its command's update: another checkout, another store; a result from before the store is stored first)",
        options: { store: O.store, fingerprint: O.fingerprint, stage: O.stage, input: O.input, "page-blob": O.pageBlob },
        examples: ["PULUMI_COMMAND_STDOUT='{…}' npm run store -- update --store artifacts/store --fingerprint <hex> --stage Rocky-9.8-base"],
    },
    path: {
        summary: "the local path of a stage's artifact (downloaded to this machine's cache if need be)",
        options: { store: O.store, fingerprint: O.fingerprint },
        examples: ["npm run store -- path --store artifacts/store --fingerprint <hex>"],
    },
    fetch: {
        summary: "a stage's artifact on this machine: prints its local path; --to DIR restores all its files",
        options: { store: O.store, fingerprint: O.fingerprint, to: { ...O.to, required: false, help: "restore all the stage's files into this directory", value: "DIR" } },
        examples: ["npm run store -- fetch --store s3://acme-gold/store --fingerprint <hex> --to /tmp/stage"],
    },
    place: {
        summary: "a stage's artifact at a path (the seed's layout), with NAME.sha256 beside it",
        options: { store: O.store, fingerprint: O.fingerprint, to: { ...O.to, help: "the artifact's path" } },
        examples: ["npm run store -- place --store artifacts/store --fingerprint <hex> --to artifacts/1.4.0/Rocky-9.8/aws/image.vmdk"],
    },
    export: {
        summary: "a stage's artifact to another object (a cloud's bucket): s3://, azblob://, gs://",
        options: { store: O.store, fingerprint: O.fingerprint, to: { ...O.to, help: "the object's URL", value: "URL" }, "page-blob": O.pageBlob, previous: { help: "the previous export's JSON result ($PULUMI_COMMAND_STDOUT): its object is removed when it moved", value: "JSON" } },
        examples: ["npm run store -- export --store artifacts/store --fingerprint <hex> --to s3://acme-import/gold/image.vmdk"],
    },
    remove: {
        summary: "one object by URL (an export's delete)",
        options: { url: { help: "the object's URL", required: true, value: "URL", check: storeUrlProblem } },
        examples: ["npm run store -- remove --url s3://acme-import/gold/image.vmdk"],
    },
    ref: {
        summary: "records a stack's references: the fingerprints it uses (gc keeps them)",
        options: {
            store: O.store,
            stack: { help: "the references' owner, <project>.<stack>", required: true, value: "OWNER", check: matches(/^[A-Za-z0-9._-]+$/, "<project>.<stack> in letters, digits, '.', '_', '-'") },
            fingerprints: { help: "the fingerprints, comma-separated", required: true, value: "HEX,...", check: (v: string) => v.split(",").filter(Boolean).map(isFingerprint).find(Boolean) },
        },
        examples: ["npm run store -- ref --store artifacts/store --stack gold-images.1.4.0 --fingerprints <hex>,<hex>"],
    },
    unref: {
        summary: "removes one set of references (a stack's destroy)",
        options: { store: O.store, key: { help: "the references' key", required: true, value: "KEY", check: matches(/^refs\/[A-Za-z0-9._-]+\/[0-9a-f]{16}\.json$/, "a references key (refs/<stack>/<16 hex digits>.json)") } },
        examples: ["npm run store -- unref --store artifacts/store --key refs/gold-images.1.4.0/0123456789abcdef.json"],
    },
    gc: {
        summary: "removes what no reference names (a dry run unless --delete yes)",
        options: {
            store: { ...O.store, help: "the store (a directory must already be one)", check: gcStoreProblem },
            "min-age-hours": { help: "keep what was made or used within this (default 72)", value: "N", check: matches(/^\d{1,5}$/, "a whole number of hours") },
            delete: { help: "remove (yes) or only report (no, the default)", value: "yes|no", choices: ["yes", "no"] },
            "keep-from-export": { help: "also keep the stages of these `pulumi stack export` files (stacks from before references)", value: "FILE,..." },
        },
        examples: ["npm run store -- gc --store s3://acme-gold/store", "npm run store -- gc --store artifacts/store --delete yes --min-age-hours 24"],
    },
} as const;

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

/** A yes|no option (its choices are checked by the parser). */
const yes = (value: string | undefined): boolean => value === "yes";

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
    const { manifest: m, refused } = await useStage(store, fingerprint);
    if (refused) throw new Error(`${name}: the stored stage ${fingerprint.slice(0, 12)} is refused: ${refused}`);
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

/** The stages of `pulumi stack export` files (--keep-from-export). */
function keptFromExports(files: string | undefined): string[] {
    return (files ?? "").split(",").filter(Boolean).flatMap((f) => {
        let exported: unknown;
        try {
            exported = JSON.parse(fs.readFileSync(f, "utf8"));
        } catch (e) {
            throw new UsageError(`--keep-from-export: ${f} is not a readable \`pulumi stack export\` (${(e as Error).message})`);
        }
        return fingerprintsOfExport(exported);
    });
}

async function main(): Promise<unknown> {
    const a = parseSubcommandOrExit(PROGRAM, COMMANDS, process.argv.slice(2));
    switch (a.command) {
        case "run": {
            const v = a.values;
            return runStage({
                store: openStore(v.store),
                cache: cache(),
                fingerprint: v.fingerprint,
                stage: v.stage,
                os: v.os,
                provider: v.provider,
                logFile: v.log,
                needs: toolIds(v.needs ?? ""),
                dir: v.dir,
                input: v.input,
                command: v.command,
                pageBlob: yes(v["page-blob"]) && parseStoreUrl(v.store).kind === "azblob",
                noBuild: process.env.GOLD_STAGE_NO_BUILD === "1",
            });
        }
        case "update": {
            const v = a.values;
            return update(v.store, v.fingerprint, v.stage, v.input, yes(v["page-blob"]) && parseStoreUrl(v.store).kind === "azblob");
        }
        case "path": {
            const v = a.values;
            const m = await stage(v.store, v.fingerprint);
            return localBlob(openStore(v.store), cache(), mainFile(m), stderrLog, { verify: true });
        }
        case "fetch": {
            const v = a.values;
            const store = openStore(v.store);
            const m = await stage(v.store, v.fingerprint);
            if (v.to) {
                await restoreStage(store, cache(), m, path.resolve(v.to), stderrLog);
                return { dir: path.resolve(v.to), file: m.result.file, sha256: m.result.sha256 };
            }
            return { path: await localBlob(store, cache(), mainFile(m), stderrLog, { verify: true }), sha256: m.result.sha256 };
        }
        case "place": {
            const v = a.values;
            const store = openStore(v.store);
            const m = await stage(v.store, v.fingerprint);
            const to = path.resolve(v.to);
            await linkOrCopy(await localBlob(store, cache(), mainFile(m), stderrLog, { verify: true }), to);
            fs.writeFileSync(`${to}.sha256`, `${m.result.sha256}  ${path.basename(to)}\n`);
            return { path: to, sha256: m.result.sha256 };
        }
        case "export": {
            const v = a.values;
            const store = openStore(v.store);
            const m = await stage(v.store, v.fingerprint);
            const target = openObject(v.to, targetEnv());
            const file = mainFile(m);
            const there = await target.store.stat(target.key);
            // Not sent again only when it is still the very object the previous export wrote of
            // these bytes (the service's version it recorded): metadata on the target is anyone's.
            const before = v.previous ? (JSON.parse(v.previous) as { url?: unknown; sha256?: unknown; version?: unknown }) : {};
            const same = before.url === v.to && before.sha256 === file.sha256 && typeof before.version === "string" && there?.complete && there.bytes === file.bytes && there.version === before.version;
            let version = same ? (before.version as string) : undefined;
            if (!same) {
                const local = await localBlob(store, cache(), file, stderrLog, { verify: true });
                version = await uploadFile(target.store, target.key, local, { page: yes(v["page-blob"]), sha256: file.sha256, log: stderrLog });
            }
            // An update to another target: the previous copy (a URL this command made) goes.
            const previous = before.url;
            if (typeof previous === "string" && previous !== v.to && !storeUrlProblem(previous) && parseStoreUrl(previous).kind !== "file") {
                const old = openObject(previous, targetEnv());
                await old.store.remove(old.key);
            }
            return { url: v.to, location: target.store.location(target.key), sha256: file.sha256, bytes: file.bytes, ...(version ? { version } : {}) };
        }
        case "remove": {
            const target = openObject(a.values.url, targetEnv());
            await target.store.remove(target.key);
            return { url: a.values.url, removed: true };
        }
        case "ref": {
            const v = a.values;
            const fps = v.fingerprints.split(",").filter(Boolean);
            return { key: await writeRefs(openStore(v.store), v.stack, fps), fingerprints: fps.length };
        }
        case "unref": {
            await openStore(a.values.store).remove(a.values.key);
            return { key: a.values.key, removed: true };
        }
        case "gc": {
            const v = a.values;
            const keep = keptFromExports(v["keep-from-export"]);
            return gc(openStore(v.store), { minAgeHours: Number(v["min-age-hours"] ?? "72"), apply: yes(v.delete), keep });
        }
    }
}

runMain(PROGRAM, main);
