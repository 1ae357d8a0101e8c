// scripts/packer-build.sh with a stand-in `packer` on PATH: the wrapper's own promises
// (atomic promotion, log beside the artifact, SHA256SUMS, JSON stdout, signals) for real.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { repoRoot } from "../../components/recipe/paths";
import { createHash } from "node:crypto";
import { run, tempDir } from "../support/tools";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

// Behaves like `packer build` for the wrapper: writes into -var output_dir=..., logs to
// PACKER_LOG_PATH, and on SIGINT removes its output as Packer does.
// FAKE_QEMU starts a child that stands for QEMU (its pid in FAKE_QEMU_PID_FILE); FAKE_DEAF makes
// the fake ignore SIGINT (a Packer that does not stop); FAKE_FORMAT=vmdk writes a VirtualBox-like
// output (an .ovf and a larger .vmdk). FAKE_STEPS prints what a real build prints (step lines,
// Ansible's tasks and their output), then waits for the file FAKE_GO before it finishes.
const FAKE_PACKER = `#!/usr/bin/env bash
out=""
for a in "$@"; do case "$a" in output_dir=*) out="\${a#output_dir=}";; esac; done
echo "fake packer log" >> "$PACKER_LOG_PATH"
mkdir "$out" || exit 1
if [ "\${FAKE_FORMAT:-}" = vmdk ]; then printf 'ovf' > "$out/box.ovf"; printf 'vmdk disk' > "$out/box-disk001.vmdk"; else printf 'disk' > "$out/image.qcow2"; fi
echo "$$" > "$FAKE_PID_FILE"
[ -z "\${FAKE_TRACE:-}" ] || echo "start $(date +%s%N) $*" >> "$FAKE_TRACE"
if [ -n "\${FAKE_QEMU:-}" ]; then sleep 300 & echo "$!" > "$FAKE_QEMU_PID_FILE"; fi
if [ -n "\${FAKE_DEAF:-}" ]; then trap '' INT; else trap 'rm -rf "$out"; exit 1' INT; fi
if [ -n "\${FAKE_SLEEP:-}" ]; then sleep "$FAKE_SLEEP" & wait $!; fi
if [ -n "\${FAKE_STEPS:-}" ]; then
    echo "==> qemu.variant: Starting VM, booting disk image"
    printf '    qemu.variant: TASK [aws : a quick task] %s\n' '*****************************'
    echo "    qemu.variant: ok: [default]"
    printf '    qemu.variant: TASK [aws : a slow task] %s\n' '******************************'
    i=0; while [ ! -e "$FAKE_GO" ] && [ "$i" -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    echo "    qemu.variant: changed: [default]"
    echo "==> qemu.variant: $(printf 'x%.0s' $(seq 1 300))"
    for n in $(seq 1 250); do echo "==> qemu.variant: step $n"; done
fi
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
        FAKE_QEMU_PID_FILE: path.join(dir, "qemu.pid"),
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
    assert.equal(r.stderr, "==> build finished\n", "only Packer's step lines for the stack's state on success");
    fs.rmSync(dir, { recursive: true });
});

test("Packer's step lines reach stderr while it builds, a task only once it runs long, 200 lines at most; build.log stays whole", async () => {
    const { dir, env, out } = setup();
    const go = path.join(dir, "go");
    const child = spawn(script, [out, "-only=qemu.variant"], { env: { ...env, FAKE_STEPS: "1", FAKE_GO: go, GOLD_SLOW_TASK_SECONDS: "3" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const closed = new Promise<number | null>((r) => child.on("close", r));
    // The fake waits for FAKE_GO: what reaches stderr now, Packer's build has not finished.
    for (let i = 0; i < 600 && !/a slow task/.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(stderr, /^==> qemu\.variant: Starting VM, booting disk image\n/, "the step line, as Packer printed it, while it builds");
    assert.match(stderr, /\nqemu\.variant: TASK \[aws : a slow task\] \(running for 3 s or more\)\n$/);
    assert.equal(stdout, "");
    fs.writeFileSync(go, "");
    assert.equal(await closed, 0, stderr);
    const lines = stderr.split("\n");
    assert.equal(lines.pop(), "", "whole lines only");
    assert.equal(lines.length, 200, "at most 200 lines, however long the build");
    assert.ok(!/quick task|ok: \[default\]|changed:/.test(stderr), "no quick task, no task output");
    assert.equal(lines[2], `==> qemu.variant: ${"x".repeat(200)}`.slice(0, 200), "a line is cut to 200 characters");
    assert.deepEqual(lines.slice(3, 5), ["==> qemu.variant: step 1", "==> qemu.variant: step 2"]);
    const log = fs.readFileSync(path.join(out, "build.log"), "utf8");
    for (const whole of ["a quick task", "ok: [default]", "step 250", "x".repeat(300), "build finished"]) assert.ok(log.includes(whole), `build.log keeps ${whole}`);
    assert.match(JSON.parse(stdout).artifact, /image\.qcow2$/);
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

/** A live process (a killed one whose parent died too may linger as a zombie until reaped: dead). */
const alive = (pid: number) => {
    try {
        return !/^\d+ \(.*\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
        return false;
    }
};

async function waitFor(file: string): Promise<number> {
    for (let i = 0; i < 2400 && !(fs.existsSync(file) && fs.readFileSync(file, "utf8").trim()); i++) await new Promise((r) => setTimeout(r, 50));
    return Number(fs.readFileSync(file, "utf8"));
}

test("after kill -9 of the wrapper, a retry stops the orphaned Packer and QEMU first, then builds", async () => {
    const { dir, env, out } = setup();
    // Two slots: the orphans must not keep a retry from starting, nor their cleanup remove its output.
    const slow = { ...env, FAKE_SLEEP: "300", FAKE_QEMU: "1", GOLD_PARALLEL_BUILDS: "2" };
    const child = spawn(script, [out, "-only=qemu.variant"], { env: slow, stdio: "ignore", detached: true });
    const packerPid = await waitFor(path.join(dir, "pid"));
    const qemuPid = await waitFor(path.join(dir, "qemu.pid"));
    process.kill(child.pid!, "SIGKILL");
    await new Promise((r) => child.on("close", r));
    assert.ok(alive(packerPid) && alive(qemuPid), "kill -9 of the wrapper leaves Packer and QEMU running (as a killed `pulumi up` would)");
    fs.rmSync(path.join(dir, "pid"));
    const started = Date.now();
    const r = await run(script, [out, "-only=qemu.variant"], { env: { ...env, GOLD_PARALLEL_BUILDS: "2", GOLD_STOP_TIMEOUT: "10" } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /an earlier build of .* is still running .*: stopping it/);
    assert.ok(!alive(packerPid) && !alive(qemuPid), "the orphans are gone");
    // The orphans were stopped (GOLD_STOP_TIMEOUT 10 s), not waited for (their 300 s).
    assert.ok(Date.now() - started < 150_000, `the retry took ${Date.now() - started} ms`);
    const report = JSON.parse(r.stdout.trim());
    assert.equal(report.artifact, path.join(out, "image.qcow2"));
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(fs.existsSync(report.artifact), "nothing removed the retry's output");
    fs.rmSync(dir, { recursive: true });
});

test("a stop is bounded: a Packer that ignores SIGINT is killed after GOLD_STOP_TIMEOUT, or at a second signal", async () => {
    for (const second of [false, true]) {
        const { dir, env, out } = setup();
        const deaf = { ...env, FAKE_SLEEP: "300", FAKE_DEAF: "1", FAKE_QEMU: "1", GOLD_STOP_TIMEOUT: second ? "120" : "2" };
        const child = spawn(script, [out], { env: deaf, stdio: "ignore" });
        const packerPid = await waitFor(path.join(dir, "pid"));
        const qemuPid = await waitFor(path.join(dir, "qemu.pid"));
        const closed = new Promise((r) => child.on("close", r));
        const at = Date.now();
        child.kill("SIGTERM");
        if (second) {
            await new Promise((r) => setTimeout(r, 500));
            child.kill("SIGTERM");
        }
        assert.equal(await closed, 130);
        // Bounds that tell the behaviours apart (not speed: a loaded machine takes its time): the
        // stop timeout (2 s) or the second signal, not Packer's own 300 s, nor the 120 s timeout.
        assert.ok(Date.now() - at < 60_000, `stopped in ${Date.now() - at} ms`);
        assert.ok(!alive(packerPid) && !alive(qemuPid), "Packer and QEMU are gone");
        assert.ok(!fs.existsSync(out) && !fs.existsSync(`${out}.partial`));
        fs.rmSync(dir, { recursive: true });
    }
});

test("a build Packer finished but that was stopped while checksummed is resumed, not built again", async () => {
    const { dir, env, out } = setup();
    const bin = path.join(dir, "bin");
    // A sha256sum that takes its time on the build's files (other callers, such as the chroot
    // release's key of OUTPUT_DIR, get the real one): the wrapper is stopped in the middle of it.
    fs.writeFileSync(path.join(bin, "sha256sum"), '#!/bin/sh\n[ $# -gt 0 ] || exec /usr/bin/sha256sum\ntouch "$FAKE_HASHING"\nsleep 30\n', { mode: 0o755 });
    const hashing = path.join(dir, "hashing");
    const child = spawn(script, [out], { env: { ...env, FAKE_HASHING: hashing }, stdio: "ignore", detached: true });
    for (let i = 0; i < 2400 && !fs.existsSync(hashing); i++) await new Promise((r) => setTimeout(r, 50));
    process.kill(-child.pid!, "SIGKILL");
    await new Promise((r) => child.on("close", r));
    assert.ok(fs.existsSync(`${out}.built`), "the finished build is kept as OUTPUT_DIR.built");
    assert.ok(!fs.existsSync(out));
    fs.rmSync(path.join(bin, "sha256sum"));
    const trace = path.join(dir, "trace");
    const r = await run(script, [out], { env: { ...env, FAKE_TRACE: trace } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /resuming .*: Packer had finished it/);
    assert.ok(!fs.existsSync(trace), "Packer did not run again");
    assert.ok(fs.existsSync(path.join(out, "SHA256SUMS")) && !fs.existsSync(`${out}.built`) && !fs.existsSync(`${out}.sums`));
    assert.equal(JSON.parse(r.stdout).sha256, sha256(fs.readFileSync(path.join(out, "image.qcow2"))));
    fs.rmSync(dir, { recursive: true });
});

test("a relative OUTPUT_DIR is the caller's, for the build and its cleanup alike; a VMDK output is reported as such", async () => {
    const { dir, env } = setup();
    const cwd = path.join(dir, "caller");
    fs.mkdirSync(cwd);
    const r = await run(script, ["rel/out", "-only=virtualbox-iso.iso"], { env: { ...env, FAKE_FORMAT: "vmdk" }, cwd });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.artifact, path.join(cwd, "rel", "out", "box-disk001.vmdk"));
    assert.equal(report.format, "vmdk");
    assert.ok(!fs.existsSync(path.join(repoRoot, "rel")));
    fs.rmSync(dir, { recursive: true });
});
