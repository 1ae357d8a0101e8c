// Builds stages into the artifact store outside Pulumi, with exactly the program's commands and
// fingerprints (it runs index.ts under the SDK's mocks, as the end-to-end test does, and runs
// only the stage commands): one machine per OS or OS x provider, then one `pulumi up` finds
// every stage in the store and only publishes.
//   npm run stage -- --stack 1.4.0 [--os ID]... [--provider NAME]... [--base-only] [--no-build] [--materialize]
//   npm run stage -- --stack 1.4.0 --list
// Config: Pulumi.<stack>.yaml (its secrets are not needed: nothing is published). --os and
// --provider narrow the stack's oses and providers. --base-only runs the OSes' bases only (a
// CI job per OS before the jobs per OS and provider). --no-build only looks (an error when a
// stage is missing). --materialize places the tested artifacts in the seed's layout,
// artifacts/<version>/<os>/<provider>/<name>.<ext> with .sha256 and SHA256SUMS. --list prints
// the stack's OSes and its OS x provider pairs (a CI matrix) and runs nothing.
// stdout: one JSON line {ok, stages: {name: found|built}, placed?}, or with --list {oses, include}.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { parse } from "yaml";
import { installHarness, reportUp } from "../components/engine/harness";
import { repoRoot } from "../components/recipe/paths";
import { loadConfig } from "../components/config";
import { preflight, stageNames } from "../components/pipeline";
import { stagedArtifact } from "../components/store/run-stage";

function fail(message: string): never {
    process.stderr.write(`stage: ${message}\n`);
    process.exit(2);
}

let args: { values: Record<string, string | string[] | boolean | undefined> };
try {
    args = parseArgs({
        args: process.argv.slice(2),
        options: {
            stack: { type: "string" },
            os: { type: "string", multiple: true },
            provider: { type: "string", multiple: true },
            "base-only": { type: "boolean" },
            "no-build": { type: "boolean" },
            materialize: { type: "boolean" },
            list: { type: "boolean" },
        },
        strict: true,
        allowPositionals: false,
    });
} catch (e) {
    fail(`${(e as Error).message} (valid: --stack NAME [--os ID]... [--provider NAME]... [--base-only] [--no-build] [--materialize] [--list])`);
}
const v = args.values;
const stack = v.stack as string | undefined;
if (!stack || !/^[A-Za-z0-9._-]+$/.test(stack)) fail(`--stack '${stack ?? ""}' is not a stack name (letters, digits, '.', '_', '-')`);

const project = parse(fs.readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8")).name as string;
const stackFile = path.join(repoRoot, `Pulumi.${stack}.yaml`);
if (!fs.existsSync(stackFile)) fail(`${stackFile} does not exist: the stack's config is read from it (pulumi config set … writes it)`);
const config: Record<string, unknown> = {};
for (const [key, value] of Object.entries((parse(fs.readFileSync(stackFile, "utf8"))?.config ?? {}) as Record<string, unknown>)) {
    const [ns, name] = key.includes(":") ? key.split(":", 2) : [project, key];
    if (ns !== project) continue;
    // Secrets are the publishers': nothing is published here.
    if (value && typeof value === "object" && "secure" in value) continue;
    config[name] = value;
}
// What the stack does not set, Pulumi.yaml's defaults give.
const declared = parse(fs.readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8")).config ?? {};
for (const key of ["oses", "providers"]) config[key] ??= declared[key]?.default;
const narrow = (key: string, given: string[] | undefined) => {
    if (!given) return;
    const all = config[key] as string[];
    const outside = given.find((g) => !all.includes(g));
    if (outside) fail(`--${key === "oses" ? "os" : "provider"} '${outside}' is not in the stack's ${key} (${all.join(", ")})`);
    config[key] = given;
};
narrow("oses", v.os as string[] | undefined);
narrow("providers", v.provider as string[] | undefined);
config.publish = false;
if (v.list) {
    const oses = config.oses as string[];
    const list = { oses, include: oses.flatMap((os) => (config.providers as string[]).map((provider) => ({ os, provider }))) };
    process.stdout.write(JSON.stringify(list) + "\n", () => process.exit(0));
}

if (!v.list) run();

function run(): void {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "gold-stage-"));
    const logDir = path.join(repoRoot, "artifacts", "stage-logs", stack!);
    fs.rmSync(logDir, { recursive: true, force: true });
    const harness = installHarness({
        project,
        stack: stack!,
        // A state of its own, empty: every stage command runs, and finds what the store has.
        stateFile: path.join(work, "state.json"),
        logDir,
        only: v["base-only"] ? (name) => name.endsWith("-base-run") : (name) => name.endsWith("-run"),
        env: v["no-build"] ? { GOLD_STAGE_NO_BUILD: "1" } : {},
    });
    pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, x]) => [`${project}:${k}`, typeof x === "string" ? x : JSON.stringify(x)])));

    reportUp(harness, async () => {
        // The stages this run owes, by the program's own plan and names.
        const gold = loadConfig();
        const plans = preflight(gold);
        const wanted = plans.flatMap((p) => {
            const n = stageNames(p);
            const images = v["base-only"] ? [] : n.images.flatMap((i) => [i.variant, i.conversion, ...(i.test ? [i.test] : [])]);
            return [...(n.base ? [n.base] : []), ...images].map((s) => `${s}-run`);
        });
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        require(path.join(repoRoot, "index"));
        // Each is done once it ran (a failure ends the run through the harness).
        while (!wanted.every((w) => harness.executed.some((e) => e.name === w && e.ok))) await new Promise((r) => setTimeout(r, 500));
        const state = JSON.parse(fs.readFileSync(path.join(work, "state.json"), "utf8")).commands as Record<string, { stdout: string }>;
        const stages: Record<string, string> = {};
        for (const name of wanted) {
            const text = fs.readFileSync(path.join(logDir, `${name}.stderr.log`), "utf8");
            stages[name.replace(/-run$/, "")] = /built and stored in/.test(text) ? "built" : "found";
        }
        const placed: string[] = [];
        if (v.materialize) {
            for (const p of plans) {
                for (const i of stageNames(p).images) {
                    const result = JSON.parse(state[`${i.test ?? i.conversion}-run`].stdout) as { fingerprint: string; sha256: string; key: string; store: string };
                    const { path: file } = await stagedArtifact(result.store, result.fingerprint);
                    const dir = path.join(repoRoot, "artifacts", gold.version, p.os.vm_name, i.provider);
                    const target = path.join(dir, path.basename(result.key));
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
