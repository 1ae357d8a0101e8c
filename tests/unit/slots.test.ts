// scripts/slots.sh hands a freed slot to the stage that asked first (its queue of tickets), and a
// waiter killed while it waited (kill -9: its ticket left behind) holds up nobody.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { repoRoot } from "../../components/recipe/paths";
import { tempDir } from "../support/tools";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process that takes a slot, writes its name to `order`, then holds the slot until `release` exists. */
function taker(dir: string, name: string): ChildProcess {
    const script = `. scripts/slots.sh; take_slot qemu; echo ${name} >> "$ORDER"; while [ ! -e "$RELEASE-${name}" ]; do sleep 0.2; done`;
    return spawn("/bin/bash", ["-c", script], {
        cwd: repoRoot,
        env: { ...process.env, GOLD_LOCK_DIR: path.join(dir, "locks"), GOLD_PARALLEL_BUILDS: "1", ORDER: path.join(dir, "order"), RELEASE: path.join(dir, "release") },
        stdio: "ignore",
    });
}

const closed = (p: ChildProcess) => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(null) : p.on("close", r)));
const order = (dir: string) => (fs.existsSync(path.join(dir, "order")) ? fs.readFileSync(path.join(dir, "order"), "utf8").split("\n").filter(Boolean) : []);
const tickets = (dir: string) => fs.readdirSync(path.join(dir, "locks", "queue")).filter((f) => !f.endsWith(".new"));

async function until(what: string, ok: () => boolean): Promise<void> {
    for (let i = 0; i < 300 && !ok(); i++) await sleep(100);
    assert.ok(ok(), what);
}

/** A holder takes the slot; `waiters` ask in this order, each once the one before is queued; the holder lets go. */
async function queueOf(waiters: string[]): Promise<string[]> {
    const dir = tempDir("slots");
    const procs = [taker(dir, "holder")];
    await until("the holder took the slot", () => order(dir).includes("holder"));
    for (const [i, w] of waiters.entries()) {
        procs.push(taker(dir, w));
        await until(`${w} is queued`, () => tickets(dir).length === i + 1);
    }
    for (const name of ["holder", ...waiters]) {
        fs.writeFileSync(path.join(dir, `release-${name}`), "");
        if (name !== waiters.at(-1)) await until(`the slot passed on after ${name}`, () => order(dir).length > ["holder", ...waiters].indexOf(name) + 1);
    }
    await Promise.all(procs.map(closed));
    const seen = order(dir);
    assert.deepEqual(tickets(dir), [], "no ticket left");
    fs.rmSync(dir, { recursive: true, force: true });
    return seen.slice(1);
}

test("a freed slot goes to the stage that asked first, whatever the names (both orders)", async () => {
    assert.deepEqual(await queueOf(["a", "b", "c"]), ["a", "b", "c"]);
    // The control: asked the other way round, served the other way round.
    assert.deepEqual(await queueOf(["c", "b", "a"]), ["c", "b", "a"]);
});

test("a waiter killed while it waited (its ticket left) holds up nobody", async () => {
    const dir = tempDir("slots");
    const holder = taker(dir, "holder");
    await until("the holder took the slot", () => order(dir).includes("holder"));
    const dead = taker(dir, "dead");
    await until("the first waiter is queued", () => tickets(dir).length === 1);
    dead.kill("SIGKILL");
    await closed(dead);
    assert.equal(tickets(dir).length, 1, "kill -9 leaves its ticket (the control: nothing removed it)");
    const next = taker(dir, "next");
    await until("the next waiter is queued", () => tickets(dir).length === 2);
    fs.writeFileSync(path.join(dir, "release-holder"), "");
    await until("the next waiter took the slot past the dead one's ticket", () => order(dir).includes("next"));
    assert.deepEqual(tickets(dir), [], "the dead waiter's ticket was removed");
    fs.writeFileSync(path.join(dir, "release-next"), "");
    await Promise.all([holder, next].map(closed));
    assert.deepEqual(order(dir), ["holder", "next"]);
    fs.rmSync(dir, { recursive: true, force: true });
});
