// scripts/*.sh: shellcheck, and gen-keys.sh and zero.sh run for real in temporary places.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { spawnSync, SpawnSyncReturns } from "node:child_process";

const root = path.resolve(__dirname, "..", "..");
const scriptsDir = path.join(root, "scripts");
const genKeys = path.join(scriptsDir, "gen-keys.sh");
const zero = path.join(scriptsDir, "zero.sh");

function have(tool: string): boolean {
    return spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).status === 0;
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
    return spawnSync(cmd, args, {
        cwd: opts.cwd ?? root,
        encoding: "utf8",
        timeout: 120_000,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, ...(opts.env ?? {}) },
    });
}

const output = (r: SpawnSyncReturns<string>) => `${r.stdout ?? ""}\n${r.stderr ?? ""}`;

function tempDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

const shellScripts = fs.readdirSync(scriptsDir).filter((f) => f.endsWith(".sh")).sort();

test("the clean-up and key scripts exist, are executable and strict", () => {
    for (const name of ["cleanup.sh", "zero.sh", "gen-keys.sh"]) {
        const p = path.join(scriptsDir, name);
        assert.ok(fs.existsSync(p), `missing scripts/${name}`);
        assert.ok((fs.statSync(p).mode & 0o111) !== 0, `scripts/${name} must be executable`);
        const text = fs.readFileSync(p, "utf8");
        assert.match(text, /^#!\/bin\/(ba)?sh\n/, `scripts/${name}: shebang`);
        assert.match(text, /^set -eu/m, `scripts/${name}: set -eu`);
    }
});

for (const name of shellScripts) {
    test(`shellcheck scripts/${name}`, { skip: have("shellcheck") ? false : "shellcheck is not installed" }, () => {
        const r = run("shellcheck", ["-x", path.join(scriptsDir, name)]);
        assert.equal(r.status, 0, output(r));
    });
}

test("gen-keys.sh creates an ed25519 build key pair, idempotently, from any directory", { skip: have("ssh-keygen") ? false : "ssh-keygen is not installed" }, () => {
    const dir = tempDir("gold-keys-");
    const keysDir = path.join(dir, "keys");
    const env = { GOLD_KEYS_DIR: keysDir };
    try {
        const first = run(genKeys, [], { cwd: os.tmpdir(), env });
        assert.equal(first.status, 0, output(first));
        const priv = path.join(keysDir, "packer");
        const pub = path.join(keysDir, "packer.pub");
        assert.ok(fs.existsSync(priv) && fs.existsSync(pub));
        assert.equal(fs.statSync(priv).mode & 0o777, 0o600);
        const privText = fs.readFileSync(priv, "utf8");
        assert.doesNotMatch(output(first), /PRIVATE KEY/, "the private key must never be printed");
        assert.doesNotMatch(output(first), new RegExp(privText.split("\n")[1].slice(0, 20).replace(/[+/]/g, "\\$&")));

        const derived = run("ssh-keygen", ["-y", "-f", priv]);
        assert.equal(derived.status, 0, output(derived));
        const body = (s: string) => s.trim().split(/\s+/).slice(0, 2).join(" ");
        assert.equal(body(derived.stdout), body(fs.readFileSync(pub, "utf8")));
        assert.match(derived.stdout, /^ssh-ed25519 /);

        const again = run(genKeys, [], { cwd: "/", env });
        assert.equal(again.status, 0, output(again));
        assert.equal(fs.readFileSync(priv, "utf8"), privText, "a second run must keep the key");
        assert.equal(fs.statSync(priv).mode & 0o777, 0o600);

        const forced = run(genKeys, ["--force"], { env });
        assert.equal(forced.status, 0, output(forced));
        assert.notEqual(fs.readFileSync(priv, "utf8"), privText, "--force must regenerate the key");
        assert.equal(fs.statSync(priv).mode & 0o777, 0o600);
        assert.doesNotMatch(output(forced), /PRIVATE KEY/);

        const bad = run(genKeys, ["--bogus"], { env });
        assert.notEqual(bad.status, 0);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("zero.sh fills a directory's file system (capped), removes its fill file and exits 0", () => {
    const dir = tempDir("gold-zero-");
    try {
        fs.writeFileSync(path.join(dir, "keep"), "data");
        const r = run(zero, [dir], { env: { GOLD_ZERO_MAX_MB: "4", GOLD_ZERO_NO_TRIM: "1" } });
        assert.equal(r.status, 0, output(r));
        assert.match(r.stdout, /zero-filling the free space of/);
        assert.deepEqual(fs.readdirSync(dir), ["keep"], "only the fill file may come and go");
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

const loopSkip =
    process.getuid?.() !== 0 ? "needs root for a loop mount"
    : !have("mkfs.ext4") ? "mkfs.ext4 is not installed"
    : false;

/**
 * An ext4 file system of `mib` MiB in a file, loop-mounted for `body` (which gets the mount point
 * and the image file), then unmounted and removed; the test skips when loop mounts are not possible.
 */
function withLoopFs(t: { skip: (why: string) => void }, mib: number, body: (mnt: string, img: string) => void): void {
    const dir = tempDir("gold-zero-fs-");
    const img = path.join(dir, "fs.img");
    const mnt = path.join(dir, "mnt");
    fs.mkdirSync(mnt);
    fs.writeFileSync(img, "");
    fs.truncateSync(img, mib * 1024 * 1024);
    let mounted = false;
    try {
        const mk = run("mkfs.ext4", ["-q", "-F", "-E", "nodiscard", img]);
        assert.equal(mk.status, 0, output(mk));
        const m = run("mount", ["-o", "loop", img, mnt]);
        if (m.status !== 0) return t.skip(`loop mount unavailable: ${m.stderr.trim()}`);
        mounted = true;
        body(mnt, img);
    } finally {
        if (mounted) run("umount", [mnt]);
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

test("zero.sh fills a small file system to the end (ENOSPC is not an error) and frees it again", { skip: loopSkip }, (t) =>
    withLoopFs(t, 16, (mnt) => {
        const free = () => Number(run("df", ["--output=avail", "-B1", mnt]).stdout.trim().split("\n")[1]);
        const before = free();
        const r = run(zero, [mnt], { env: { GOLD_ZERO_NO_TRIM: "1" } });
        assert.equal(r.status, 0, output(r));
        assert.match(r.stdout, /is full, freeing it again/);
        assert.deepEqual(fs.readdirSync(mnt).filter((f) => f !== "lost+found"), []);
        assert.ok(free() >= before - 64 * 1024, `free space must come back (${before} -> ${free()})`);
    }));

test("zero.sh on a loop device over a sparse file (a chroot build): the trim makes the holes, no fill; without GOLD_ZERO_TRIM_MAKES_HOLES it fills", { skip: loopSkip }, (t) =>
    withLoopFs(t, 64, (mnt, img) => {
        const allocated = () => fs.statSync(img).blocks * 512;
        // 32 MiB of data written and deleted: blocks the file system no longer uses but the file still holds.
        assert.equal(run("dd", ["if=/dev/urandom", `of=${path.join(mnt, "data")}`, "bs=1M", "count=32", "conv=fsync"]).status, 0);
        fs.rmSync(path.join(mnt, "data"));
        run("sync", []);
        const before = allocated();
        const r = run(zero, [mnt], { env: { GOLD_ZERO_TRIM_MAKES_HOLES: "1" } });
        assert.equal(r.status, 0, output(r));
        if (!/trimmed on a disk whose discards make holes/.test(r.stdout)) return t.skip(`fstrim does not work on this loop device: ${output(r).trim().slice(0, 200)}`);
        assert.doesNotMatch(r.stdout, /zero-filling/);
        assert.ok(allocated() < before - 24 * 1024 * 1024, `the trim punched holes in the file (${before} -> ${allocated()} bytes allocated)`);
        // The negative control: the same directory without the promise is filled.
        const filled = run(zero, [mnt], { env: { GOLD_ZERO_MAX_MB: "4" } });
        assert.equal(filled.status, 0, output(filled));
        assert.match(filled.stdout, /zero-filling the free space of/);
    }));
