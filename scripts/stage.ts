// Builds stages into the artifact store outside Pulumi, with exactly the program's commands and
// fingerprints (it runs index.ts under the SDK's mocks, as the end-to-end test does, and runs
// only the stage commands): one machine per OS or OS x provider, then one `pulumi up` finds
// every stage in the store and only publishes.
//   npm run stage -- --stack 1.4.0 [--os ID]... [--provider NAME]... [--base-only] [--no-build] [--materialize] [--list] [--refs]
// (--help explains each option). Config: Pulumi.<stack>.yaml (its secrets are not needed:
// nothing is published); --os and --provider narrow the stack's oses and providers.
// stdout: one JSON line {ok, stages: {name: found|built}, placed?}, with --list {oses, include},
// with --refs {refs, fingerprints}.
// Exit 0 ok, 2 bad input (options, or the stack's config: one line on stderr), 1 a build failed.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { exitUsage, matches, parseOrExit } from "../components/cli/args";
import { installHarness, reportUp } from "../components/engine/harness";
import { badChoice } from "../components/recipe/choices";
import { repoRoot } from "../components/recipe/paths";
import { GoldConfig } from "../components/config";
import { STACK_NAME, StackFile, loadStackConfig, readStackFile } from "../components/config/stack-file";
import { OsPlan, preflight, stageFingerprints, stageNames } from "../components/pipeline";
import { openStore } from "../components/store";
import { refsOwner, writeRefs } from "../components/store/gc";
import { stagedArtifact } from "../components/store/run-stage";
import { seedFileName } from "../components/stages/conversion";

const PROGRAM = { name: "stage", run: "npm run stage --" };

/**
 * How long a set written ahead of the stack's `pulumi up` keeps its stages: a workflow run's
 * builds and its publish fit in it; the stack's own set supersedes it when it is written.
 */
const REFS_PENDING_HOURS = 7 * 24;

const { values: v } = parseOrExit(PROGRAM, {
    summary: "Builds the stack's stages into the artifact store (or finds them there), outside Pulumi; prints one JSON line.",
    options: {
        stack: { help: "the stack whose Pulumi.<stack>.yaml to read", required: true, value: "NAME", example: "dev", check: matches(STACK_NAME, "a stack name (letters, digits, '.', '_', '-')") },
        os: { help: "build only this OS of the stack's oses", multiple: true, value: "ID", example: "Rocky-9.8" },
        provider: { help: "build only this provider of the stack's providers", multiple: true, value: "NAME", example: "aws" },
        "base-only": { help: "run the OSes' bases only (a CI job per OS, before the jobs per OS and provider)", flag: true },
        "no-build": { help: "only look: a stage missing from the store is an error", flag: true },
        materialize: { help: "place the tested artifacts in artifacts/<version>/<os>/<provider>/ with .sha256 and SHA256SUMS", flag: true },
        list: { help: "print the stack's OSes and OS x provider pairs (a CI matrix) as JSON, and run nothing", flag: true },
        refs: { help: "write the stack's references to its store ahead of its `pulumi up` (pending for 7 days, or until the stack writes its own), so gc keeps every stage it will use while machines build them; run nothing", flag: true },
    },
    examples: ["npm run stage -- --stack dev --list", "npm run stage -- --stack dev --os Rocky-9.8 --provider aws", "npm run stage -- --stack 1.4.0 --base-only --os Rocky-9.8"],
}, process.argv.slice(2));
const stack = v.stack;
const fail = (message: string): never => exitUsage(PROGRAM, message);

let stackFile: StackFile;
try {
    stackFile = readStackFile(stack);
} catch (e) {
    stackFile = fail((e as Error).message);
}
const { project, config } = stackFile;
const narrow = (key: string, given: string[] | undefined) => {
    if (!given) return;
    const all = config[key] as string[];
    const outside = given.find((g) => !all.includes(g));
    if (outside) fail(badChoice(`--${key === "oses" ? "os" : "provider"}`, outside, all, `is not in the stack's ${key}`).message);
    config[key] = given;
};
// The references name every stage of the stack, the very set its `pulumi up` writes (and its destroy removes).
if (v.refs && (v.os.length || v.provider.length)) fail("--refs writes the whole stack's references: without --os and --provider");
narrow("oses", v.os.length ? v.os : undefined);
narrow("providers", v.provider.length ? v.provider : undefined);
config.publish = false;
if (v.list) {
    const oses = config.oses as string[];
    const list = { oses, include: oses.flatMap((os) => (config.providers as string[]).map((provider) => ({ os, provider }))) };
    process.stdout.write(JSON.stringify(list) + "\n", () => process.exit(0));
}

if (v.refs) writeStackRefs(...checkedConfig());
else if (!v.list) run(...checkedConfig());

function writeStackRefs(gold: GoldConfig, plans: OsPlan[]): void {
    const fingerprints = [...new Set(stageFingerprints(plans))].sort();
    writeRefs(openStore(gold.artifactStore), refsOwner(project, stack), fingerprints, { pendingHours: REFS_PENDING_HOURS }).then(
        (key) => process.stdout.write(JSON.stringify({ refs: key, fingerprints: fingerprints.length, pendingHours: REFS_PENDING_HOURS }) + "\n", () => process.exit(0)),
        (e: Error) => {
            process.stderr.write(`stage: writing the references to ${gold.artifactStore} failed: ${e.message}\n`);
            process.exit(1);
        },
    );
}

/**
 * The stack's config as the program reads it (index.ts throws every config and recipe error
 * here, before registering anything): a config error is bad input — one line, exit 2 — and is
 * found before anything is built, removed or started.
 */
function checkedConfig(): [GoldConfig, OsPlan[]] {
    try {
        const gold = loadStackConfig(stackFile);
        return [gold, preflight(gold)];
    } catch (e) {
        // The config error names its key, value and choices: --help would not add to it.
        return exitUsage(PROGRAM, (e as Error).message, "");
    }
}

function run(gold: GoldConfig, plans: OsPlan[]): void {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "gold-stage-"));
    const logDir = path.join(repoRoot, "artifacts", "stage-logs", stack);
    fs.rmSync(logDir, { recursive: true, force: true });
    const harness = installHarness({
        project,
        stack,
        // A state of its own, empty: every stage command runs, and finds what the store has.
        stateFile: path.join(work, "state.json"),
        logDir,
        only: v["base-only"] ? (name) => name.endsWith("-base-run") : (name) => name.endsWith("-run"),
        env: v["no-build"] ? { GOLD_STAGE_NO_BUILD: "1" } : {},
    });

    reportUp(harness, async () => {
        // The stages this run owes, by the program's own plan and names.
        const wanted = plans.flatMap((p) => {
            const n = stageNames(p);
            const images = v["base-only"] ? [] : n.images.flatMap((i) => [i.variant, i.conversion, ...(i.test ? [i.test] : [])]);
            return [...(n.base ? [n.base] : []), ...images].map((s) => `${s}-run`);
        });
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        require(path.join(repoRoot, "index"));
        // Each is done once it ran and its result is recorded (a failure ends the run through the harness).
        while (!wanted.every((w) => w in harness.stdouts)) await new Promise((r) => setTimeout(r, 500));
        const stages: Record<string, string> = {};
        for (const name of wanted) {
            const text = fs.readFileSync(path.join(logDir, `${name}.stderr.log`), "utf8");
            stages[name.replace(/-run$/, "")] = /built and stored in/.test(text) ? "built" : "found";
        }
        const placed: string[] = [];
        if (v.materialize) {
            for (const p of plans) {
                for (const [index, i] of stageNames(p).images.entries()) {
                    const result = JSON.parse(harness.stdouts[`${i.test ?? i.conversion}-run`]) as { fingerprint: string; sha256: string; key: string; store: string };
                    const { path: file } = await stagedArtifact(result.store, result.fingerprint);
                    const dir = path.join(repoRoot, "artifacts", gold.version, p.os.vm_name, i.provider);
                    // Stored without a version (every version shares it); placed under this version's seed name.
                    const target = path.join(dir, seedFileName(p.os, p.images[index].provider, gold.version, path.basename(result.key)));
                    fs.mkdirSync(dir, { recursive: true });
                    fs.rmSync(target, { force: true });
                    try {
                        fs.linkSync(file, target);
                    } catch {
                        fs.copyFileSync(file, target);
                    }
                    fs.writeFileSync(`${target}.sha256`, `${result.sha256}  ${path.basename(target)}\n`);
                    fs.writeFileSync(path.join(dir, "SHA256SUMS"), `${result.sha256}  ${path.basename(target)}\n`);
                    placed.push(path.relative(repoRoot, target));
                }
            }
        }
        fs.rmSync(work, { recursive: true, force: true });
        return { stages, ...(v.materialize ? { placed } : {}) };
    });
}
