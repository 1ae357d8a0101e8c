// scripts/chroot-variant.sh on tiny disks (no Ansible reached): what it refuses before it runs
// anything in the image, and that every way out releases the loop device and the mounts. The
// play itself runs in the end-to-end test, on every provider.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, test } from "node:test";
import { repoRoot } from "../../components/recipe/paths";
import { missingTool, tempDir } from "../support/tools";

const script = path.join(repoRoot, "scripts/chroot-variant.sh");
const skip = process.getuid?.() !== 0 ? "needs root (loop devices, mount)" : (["losetup", "mkfs.ext4", "sfdisk", "qemu-img"].map(missingTool).find(Boolean) ?? (fs.existsSync("/dev/loop-control") ? false : "no loop devices"));
const work = tempDir("chroot-variant");
after(() => fs.rmSync(work, { recursive: true, force: true }));

const run = (cmd: string, args: string[], env: Record<string, string> = {}) => spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env }, timeout: 120_000 });

/** A 64 MiB disk, one ext4 partition made from `tree` (relative path → file content, or "->target" for a symlink). */
function disk(name: string, tree: Record<string, string>): string {
    const dir = path.join(work, `${name}-tree`);
    for (const [rel, content] of Object.entries(tree)) {
        const p = path.join(dir, rel);
        fs.mkdirSync(path.dirname(p), { recursive: true });
        if (content.startsWith("->")) fs.symlinkSync(content.slice(2), p);
        else if (rel.endsWith("/")) fs.mkdirSync(p, { recursive: true });
        else fs.writeFileSync(p, content);
    }
    const fsImg = path.join(work, `${name}.ext4`);
    const raw = path.join(work, `${name}.raw`);
    assert.equal(run("mkfs.ext4", ["-q", "-F", "-d", dir, fsImg, "60M"]).status, 0);
    fs.writeFileSync(raw, "");
    fs.truncateSync(raw, 64 * 1024 * 1024);
    assert.equal(spawnSync("sfdisk", ["-q", raw], { input: "label: dos\nstart=2048, type=83\n" }).status, 0);
    assert.equal(run("dd", [`if=${fsImg}`, `of=${raw}`, "bs=1M", "seek=1", "conv=notrunc"]).status, 0);
    return raw;
}

/** What a build of `out` holds: its mounts under /run/gold-chroot and its loop devices. */
function leftovers(out: string) {
    const root = path.join("/run/gold-chroot", createHash("sha256").update(out).digest("hex").slice(0, 16));
    const mounts = run("findmnt", ["-rn", "-o", "TARGET"]).stdout.split("\n").filter((m) => m.startsWith(root));
    const loops = run("losetup", ["--list", "--noheadings", "--raw", "-O", "BACK-FILE"]).stdout.split("\n").filter((l) => l.startsWith(`${out}/`));
    return { mounts, loops, state: fs.existsSync(root) };
}

function build(name: string, source: string) {
    const out = path.join(work, `${name}-out`);
    const r = run(script, ["build", out], { GOLD_SOURCE_DISK: source, GOLD_ARTIFACT: name, GOLD_ANSIBLE_ARGS: "[]", GOLD_CHROOT_RUN: "/run/gold-chroot" });
    return { ...r, out };
}

const root = { "etc/fstab": "LABEL=root / ext4 defaults 0 1\n", "usr/": "", "bin/": "" };

test("an image whose /proc is a symlink to the build host's directory is refused before anything is mounted there; the loop device and mounts are released", { skip }, () => {
    const target = path.join(work, "host-dir");
    fs.mkdirSync(target);
    const r = build("escape", disk("escape", { ...root, proc: `->${target}` }));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /the image's \/proc leads outside it .*refused/);
    assert.equal(run("findmnt", ["-rn", target]).status, 1, "nothing is mounted on the host's directory");
    assert.deepEqual(leftovers(r.out), { mounts: [], loops: [], state: false });
});

test("fstab naming a file system that is not on the disk is refused (never looked up on the host), and released", { skip }, () => {
    const r = build("foreign", disk("foreign", { ...root, "etc/fstab": "LABEL=root / ext4 defaults 0 1\nUUID=0000-not-here /boot ext4 defaults 0 2\n", "boot/": "" }));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /fstab names UUID=0000-not-here for \/boot, which is not on the base disk/);
    assert.deepEqual(leftovers(r.out), { mounts: [], loops: [], state: false });
});

test("control: the same disk with a real /proc gets as far as the play (then fails: the tiny image has no Python), and is released", { skip }, () => {
    const r = build("plain", disk("plain", { ...root, "proc/": "", "sys/": "", "dev/pts/": "", "run/": "", "usr/sbin/": "" }));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /provisioning with Ansible \(chroot connection, network namespace\)/);
    assert.doesNotMatch(r.stderr, /leads outside it/);
    assert.deepEqual(leftovers(r.out), { mounts: [], loops: [], state: false });
});
