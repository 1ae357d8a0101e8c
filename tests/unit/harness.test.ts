// The end-to-end harness keeps state as the engine does: unchanged commands are skipped, a
// changed one is replaced (new create, then the old delete), and a replaced copy whose delete
// did not run because the run failed stays pending and is deleted by the next run. Each
// command's stderr reaches the terminal as it comes, line by line and prefixed by its stage,
// and its log file whole; stdout stays the run's one JSON line.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, test } from "node:test";
import { repoRoot } from "../../components/recipe/paths";
import { run, tempDir } from "../support/tools";

const dir = tempDir("harness");
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const state = path.join(dir, "state.json");

/** A command that creates dir/<name>-<trigger> and whose delete removes it; a failing one fails after the others are done. */
const cmd = (name: string, trigger: string, fails = false) => ({
    name,
    trigger,
    create: fails ? "sleep 2; exit 3" : `touch '${dir}/${name}-${trigger}' && echo '{"made":"${name}-${trigger}"}'`,
    delete: `rm -f '${dir}/${name}-${trigger}'`,
});

const upProcess = (spec: ReturnType<typeof cmd>[], stateFile = state) =>
    run(process.execPath, ["--require", "ts-node/register", path.join(repoRoot, "tests/e2e/support/harness-program.ts")], {
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", GOLD_E2E_STATE: stateFile, GOLD_E2E_LOGS: path.join(dir, "logs"), GOLD_HARNESS_SPEC: JSON.stringify(spec) },
    });

async function up(spec: ReturnType<typeof cmd>[]) {
    const r = await upProcess(spec);
    return JSON.parse(r.stdout.trim().split("\n").pop()!) as { ok: boolean; executed: { name: string; action: string; ok: boolean }[]; skipped: string[] };
}
const made = () => fs.readdirSync(dir).filter((f) => /^[ab]-/.test(f)).sort();
const actions = (r: Awaited<ReturnType<typeof up>>) => r.executed.map((e) => `${e.action} ${e.name} ${e.ok}`).sort();

test("skip, replace, and a pending delete that survives a failed run", async () => {
    const first = await up([cmd("a", "1"), cmd("b", "1")]);
    assert.ok(first.ok);
    assert.deepEqual(made(), ["a-1", "b-1"]);

    const again = await up([cmd("a", "1"), cmd("b", "1")]);
    assert.deepEqual(again.executed, []);
    assert.deepEqual(again.skipped.sort(), ["a", "b"]);

    // a is replaced; b's replacement fails: the run fails before any old delete runs.
    const failed = await up([cmd("a", "2"), cmd("b", "2", true)]);
    assert.equal(failed.ok, false);
    assert.deepEqual(actions(failed), ["create a true", "create b false"]);
    assert.deepEqual(made(), ["a-1", "a-2", "b-1"], "nothing built is lost, nothing deleted yet");
    const kept = JSON.parse(fs.readFileSync(state, "utf8"));
    assert.deepEqual(kept.pendingDeletes.map(([name]: [string]) => name), ["a"]);
    assert.equal(kept.commands.b.triggers[0], "1", "b's failed replacement recorded nothing");

    // The next run retries b and deletes both old copies.
    const retried = await up([cmd("a", "2"), cmd("b", "2")]);
    assert.ok(retried.ok);
    assert.deepEqual(actions(retried), ["create b true", "delete a true", "delete b true"]);
    assert.deepEqual(made(), ["a-2", "b-2"]);
    assert.deepEqual(JSON.parse(fs.readFileSync(state, "utf8")).pendingDeletes, []);

    // A command no longer in the program is deleted.
    const removed = await up([cmd("a", "2")]);
    assert.deepEqual(actions(removed), ["delete b true"]);
    assert.deepEqual(made(), ["a-2"]);
});

test("a command's stderr: on the terminal as it comes, whole lines prefixed by its stage (two at once stay apart); whole in its log; stdout the one JSON line", async () => {
    // Lines cut across writes, one already naming its stage, a last line without its newline.
    const talk = (name: string) => ({
        name: `${name}-run`,
        trigger: "1",
        create: `printf 'one\\ntw' >&2; sleep 0.3; printf 'o\\n${name}: three\\n' >&2; sleep 0.3; printf 'four' >&2; echo '{"made":"${name}"}'`,
        delete: "true",
    });
    const r = await upProcess([talk("c"), talk("d")], path.join(dir, "talk-state.json"));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split("\n").length, 2, `stdout is one line: ${r.stdout}`);
    assert.equal(JSON.parse(r.stdout).ok, true);
    const echoed = r.stderr.split("\n");
    assert.equal(echoed.pop(), "", "whole lines");
    for (const name of ["c", "d"]) {
        assert.deepEqual(echoed.filter((l) => l.startsWith(`${name}: `)), [`${name}: one`, `${name}: two`, `${name}: three`, `${name}: four`], r.stderr);
        assert.equal(fs.readFileSync(path.join(dir, "logs", `${name}-run.stderr.log`), "utf8"), `one\ntwo\n${name}: three\nfour`, "the log file has what the command wrote");
    }
});
