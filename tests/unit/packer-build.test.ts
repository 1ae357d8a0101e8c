// scripts/packer-build.sh with a stand-in `packer` on PATH: the wrapper's own promises
// (atomic promotion, log beside the artifact, SHA256SUMS, JSON stdout, signals) for real.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { repoRoot } from "../../components/recipe/paths";
import { run, tempDir } from "../support/tools";

// Behaves like `packer build` for the wrapper: writes into -var output_dir=..., logs to
// PACKER_LOG_PATH, and on SIGINT removes its output as Packer does.
const FAKE_PACKER = `#!/usr/bin/env bash
out=""
for a in "$@"; do case "$a" in output_dir=*) out="\${a#output_dir=}";; esac; done
echo "fake packer log" >> "$PACKER_LOG_PATH"
mkdir "$out" || exit 1
printf 'disk' > "$out/image.qcow2"
echo "$$" > "$FAKE_PID_FILE"
[ -z "\${FAKE_TRACE:-}" ] || echo "start $(date +%s%N) $*" >> "$FAKE_TRACE"
trap 'rm -rf "$out"; exit 1' INT
if [ -n "\${FAKE_SLEEP:-}" ]; then sleep "$FAKE_SLEEP" & wait $!; fi
[ -z "\${FAKE_FAIL:-}" ] || { echo "==> role failed"; exit 3; }
[ -z "\${FAKE_TRACE:-}" ] || echo "end $(date +%s%N)" >> "$FAKE_TRACE"
echo "==> build finished"
`;

function setup() {
    const dir = tempDir("pbuild");
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "packer"), FAKE_PACKER, { mode: 0o755 });
    const env = {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        FAKE_PID_FILE: path.join(dir, "pid"),
        XDG_CACHE_HOME: path.join(dir, "cache"),
    };
    return { dir, env, out: path.join(dir, "artifacts", "1.0.0", "OS", "gcp") };
}

const script = path.join(repoRoot, "scripts", "packer-build.sh");

test("a successful build is promoted whole, with its log and checksums, and reported as JSON", async () => {
    const { dir, env, out } = setup();
    const r = await run(script, [out, "-only=qemu.variant"], { env });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout.trim());
    assert.equal(report.artifact, path.join(out, "image.qcow2"));
    assert.equal(report.bytes, 4);
    assert.match(report.sha256, /^[0-9a-f]{64}$/);
    assert.match(fs.readFileSync(path.join(out, "SHA256SUMS"), "utf8"), new RegExp(`^${report.sha256}  image.qcow2\\n$`));
    assert.match(fs.readFileSync(path.join(out, "packer.log"), "utf8"), /fake packer log/);
    assert.ok(!fs.existsSync(`${out}.partial`));
    assert.match(fs.readFileSync(path.join(out, "build.log"), "utf8"), /build finished/, "Packer's output is kept in build.log");
    assert.equal(r.stderr, "", "nothing for the stack's state on success");
    fs.rmSync(dir, { recursive: true });
});

test("a failed build leaves no artifact directory, only the failure log", async () => {
    const { dir, env, out } = setup();
    const r = await run(script, [out], { env: { ...env, FAKE_FAIL: "1" } });
    assert.equal(r.code, 3);
    assert.equal(r.stdout, "");
    assert.ok(!fs.existsSync(out) && !fs.existsSync(`${out}.partial`));
    assert.match(fs.readFileSync(`${out}.failed.log`, "utf8"), /fake packer log/);
    assert.match(r.stderr, /==> role failed[\s\S]*packer build failed \(exit 3\)/, "the tail of Packer's output explains the failure");
    fs.rmSync(dir, { recursive: true });
});

test("SIGTERM to the wrapper stops Packer and leaves nothing half-written", async () => {
    const { dir, env, out } = setup();
    const child = spawn(script, [out], { env: { ...env, FAKE_SLEEP: "30" }, stdio: "ignore" });
    const pidFile = path.join(dir, "pid");
    for (let i = 0; i < 100 && !fs.existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 100));
    const packerPid = Number(fs.readFileSync(pidFile, "utf8"));
    child.kill("SIGTERM");
    const code = await new Promise((r) => child.on("close", r));
    assert.equal(code, 130);
    assert.throws(() => process.kill(packerPid, 0), /ESRCH/, "packer is gone");
    assert.ok(!fs.existsSync(out) && !fs.existsSync(`${out}.partial`));
    fs.rmSync(dir, { recursive: true });
});

/** Runs wrappers at once and returns the most builds that overlapped, per the fake's trace. */
async function overlap(count: number, env: NodeJS.ProcessEnv, args: (i: number) => string[], dir: string) {
    const trace = path.join(dir, "trace");
    const outs = Array.from({ length: count }, (_, i) => path.join(dir, "artifacts", `b${i}`));
    const results = await Promise.all(outs.map((o, i) => run(script, [o, ...args(i)], { env: { ...env, FAKE_TRACE: trace, FAKE_SLEEP: "1" } })));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const events = fs
        .readFileSync(trace, "utf8")
        .trim()
        .split("\n")
        .map((l) => l.split(" "))
        .map(([kind, ts, ...rest]) => ({ kind, ts: BigInt(ts), rest: rest.join(" ") }))
        .sort((a, b) => (a.ts < b.ts ? -1 : 1));
    let running = 0;
    let most = 0;
    for (const e of events) {
        running += e.kind === "start" ? 1 : -1;
        most = Math.max(most, running);
    }
    return { most, events };
}

test("GOLD_PARALLEL_BUILDS caps how many builds run at once", async () => {
    const { dir, env } = setup();
    const { most } = await overlap(3, { ...env, GOLD_PARALLEL_BUILDS: "1" }, () => ["-only=qemu.variant"], dir);
    assert.equal(most, 1);
    fs.rmSync(dir, { recursive: true });
});

test("VirtualBox and QEMU builds never overlap, even with free slots", async () => {
    const { dir, env } = setup();
    const only = (i: number) => [i % 2 ? "-only=virtualbox-iso.aws" : "-only=qemu.variant"];
    const { events } = await overlap(4, { ...env, GOLD_PARALLEL_BUILDS: "4" }, only, dir);
    const running = new Set<string>();
    const starts = events.filter((e) => e.kind === "start");
    assert.equal(starts.length, 4);
    // Replay: at every start, nothing of the other kind may be running.
    let open: string[] = [];
    for (const e of events) {
        if (e.kind === "start") {
            const kind = e.rest.includes("virtualbox-iso") ? "virtualbox" : "qemu";
            assert.ok(open.every((k) => k === kind), `a ${kind} build started while ${open.join(",")} ran`);
            open.push(kind);
            running.add(kind);
        } else {
            open = open.slice(1);
        }
    }
    assert.equal(running.size, 2);
    fs.rmSync(dir, { recursive: true });
});
