// The CI workflow that builds one version on many machines (.github/workflows/images.yml) and
// its composite action: valid by GitHub's schema (action-validator, the schemas of
// SchemaStore), every local action it uses exists, every `npm run` it calls is a script, and
// the matrix it takes from `npm run stage -- --list` has the keys its jobs read.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { validateAction, validateWorkflow } from "@action-validator/core";
import { parse } from "yaml";
import { repoRoot } from "../../components/recipe/paths";
import { run } from "../support/tools";

const workflowFile = path.join(repoRoot, ".github/workflows/images.yml");
const workflow = fs.readFileSync(workflowFile, "utf8");
const actions = fs.readdirSync(path.join(repoRoot, ".github/actions")).map((a) => path.join(repoRoot, ".github/actions", a, "action.yml"));

test("the workflow and its actions pass GitHub's schemas, and a broken one does not", () => {
    assert.deepEqual(validateWorkflow(workflow).errors, []);
    for (const a of actions) assert.deepEqual(validateAction(fs.readFileSync(a, "utf8")).errors, [], a);
    // The check can fail: a job without runs-on, a step with an unknown key.
    assert.notDeepEqual(validateWorkflow(workflow.replace(/^    runs-on: ubuntu-24.04\n/m, "")).errors, []);
    assert.notDeepEqual(validateAction(fs.readFileSync(actions[0], "utf8").replace("shell: bash", "shel: bash")).errors, []);
});

test("no expression is expanded into a shell script: config values reach run steps through env", () => {
    // GitHub substitutes ${{ }} into the script text before the shell runs it.
    const wf = parse(workflow);
    const steps = [
        ...Object.values(wf.jobs as Record<string, { steps?: { run?: string }[] }>).flatMap((j) => j.steps ?? []),
        ...actions.flatMap((a) => parse(fs.readFileSync(a, "utf8")).runs.steps as { run?: string }[]),
    ];
    const runs = steps.map((st) => st.run).filter((r): r is string => typeof r === "string");
    assert.ok(runs.length >= 6, `${runs.length} run steps`);
    for (const r of runs) assert.doesNotMatch(r, /\$\{\{/, r);
});

test("every local action the workflow uses exists, and every npm run it calls is a script", () => {
    const texts = [workflow, ...actions.map((a) => fs.readFileSync(a, "utf8"))];
    const local = texts.flatMap((t) => [...t.matchAll(/uses: (\.\/\S+)/g)].map((m) => m[1]));
    assert.ok(local.length > 0);
    for (const u of local) assert.ok(fs.existsSync(path.join(repoRoot, u, "action.yml")), `${u}/action.yml exists`);
    const scripts = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")).scripts;
    const called = texts.flatMap((t) => [...t.matchAll(/npm run (?:--silent )?([a-z:-]+)/g)].map((m) => m[1]));
    assert.ok(called.includes("stage"));
    for (const s of called) assert.ok(scripts[s], `npm run ${s} is a script of package.json`);
});

test("npm run stage -- --list gives the matrix the jobs read (oses; include of os x provider)", async () => {
    const r = await run(process.execPath, ["--require", "ts-node/register", path.join(repoRoot, "scripts/stage.ts"), "--stack", "dev", "--list"], {
        cwd: repoRoot,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
    });
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout.trim().split("\n").pop()!);
    const dev = fs.readFileSync(path.join(repoRoot, "Pulumi.dev.yaml"), "utf8");
    assert.ok(list.oses.length > 0 && list.oses.every((os: string) => dev.includes(os)), JSON.stringify(list.oses));
    assert.equal(list.include.length, list.oses.length * new Set(list.include.map((i: { provider: string }) => i.provider)).size);
    for (const i of list.include) assert.deepEqual(Object.keys(i).sort(), ["os", "provider"]);
    // What the jobs read of it.
    for (const used of ["fromJSON(needs.plan.outputs.oses)", "fromJSON(needs.plan.outputs.images)", "matrix.os", "matrix.provider", "jq -c .oses", "jq -c '{include: .include}'"]) {
        assert.ok(workflow.includes(used), used);
    }
    // A stack without a config file is refused, naming it.
    const bad = await run(process.execPath, ["--require", "ts-node/register", path.join(repoRoot, "scripts/stage.ts"), "--stack", "no-such-stack", "--list"], {
        cwd: repoRoot,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
    });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Pulumi\.no-such-stack\.yaml/);
});
