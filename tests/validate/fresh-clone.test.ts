// A fresh clone is the only truth: CI's clone runs on the machine that made the commit, where a
// tracked link to another checkout's folder still resolves. Here HEAD is cloned into an empty
// folder (only what is committed), node_modules linked in, and a new user's first commands
// run there: the build key, the kickstart list, the dev stack's matrix, the doctor, and the
// program loaded the way the Pulumi CLI loads it, under mocks.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { repoRoot } from "../../components/recipe/paths";
import { run, tempDir } from "../support/tools";

const isCheckout = fs.existsSync(path.join(repoRoot, ".git"));
const skip = isCheckout ? undefined : `${repoRoot} is not a git checkout: there is no HEAD to clone`;
const scratch = tempDir("fresh-clone");
const clone = path.join(scratch, "clone");
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

const git = (cwd: string, ...args: string[]) => run("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd });
const npm = (cwd: string, ...args: string[]) => run("npm", ["run", "--silent", ...args], { cwd, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" } });

/** Tracked symlinks whose target lies outside the repository (they resolve on one machine only). */
async function escapingLinks(repo: string): Promise<string[]> {
    const r = await git(repo, "ls-files", "-s", "-z");
    assert.equal(r.code, 0, r.stderr);
    const root = fs.realpathSync(repo);
    return r.stdout
        .split("\0")
        .filter((line) => line.startsWith("120000 "))
        .map((line) => line.split("\t")[1])
        .filter((file) => {
            const target = path.resolve(path.dirname(path.join(root, file)), fs.readlinkSync(path.join(root, file)));
            return target !== root && !target.startsWith(root + path.sep);
        })
        .map((file) => `${file} -> ${fs.readlinkSync(path.join(root, file))}`);
}

before(async () => {
    if (skip) return;
    const r = await run("git", ["clone", "-q", repoRoot, clone]);
    assert.equal(r.code, 0, r.stderr);
    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(clone, "node_modules"));
});

test("no tracked file is a symlink pointing outside the repository", { skip }, async () => {
    assert.deepEqual(await escapingLinks(clone), []);
});

test("negative control: a committed link to another checkout's folder is found", { skip }, async () => {
    const repo = path.join(scratch, "links");
    fs.mkdirSync(path.join(repo, "inside"), { recursive: true });
    fs.symlinkSync(path.join(scratch, "elsewhere", "keys"), path.join(repo, "keys"));
    fs.symlinkSync("../inside", path.join(repo, "inside", "up"));
    fs.symlinkSync("inside", path.join(repo, "here"));
    assert.equal((await git(repo, "init", "-q")).code, 0);
    assert.equal((await git(repo, "add", "-A")).code, 0);
    assert.equal((await git(repo, "commit", "-qm", "links")).code, 0);
    assert.deepEqual(await escapingLinks(repo), [`keys -> ${path.join(scratch, "elsewhere", "keys")}`]);
});

test("npm run keys makes the build key in the clone, and git ignores it", { skip }, async () => {
    const r = await npm(clone, "keys");
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.ok(fs.statSync(path.join(clone, "keys", "packer")).isFile());
    assert.equal((await git(clone, "status", "--porcelain")).stdout, "", "the clone is clean after its first command");
    // As a folder and as a link (a worktree's keys may be one), the key is never committed.
    assert.equal((await git(clone, "check-ignore", "-q", "keys")).code, 0);
    fs.renameSync(path.join(clone, "keys"), path.join(clone, "keys.real"));
    fs.symlinkSync(path.join(clone, "keys.real"), path.join(clone, "keys"));
    try {
        assert.deepEqual((await git(clone, "status", "--porcelain")).stdout.split("\n").filter(Boolean), ["?? keys.real/"]);
    } finally {
        fs.rmSync(path.join(clone, "keys"));
        fs.renameSync(path.join(clone, "keys.real"), path.join(clone, "keys"));
    }
});

test("negative control: with keys a dangling link (what the tracked link was elsewhere), npm run keys fails", { skip }, async () => {
    const other = path.join(scratch, "dangling");
    assert.equal((await run("git", ["clone", "-q", repoRoot, other])).code, 0);
    fs.symlinkSync(path.join(scratch, "no-such-checkout", "keys"), path.join(other, "keys"));
    const r = await run(path.join(other, "scripts", "gen-keys.sh"), [], { cwd: other });
    assert.notEqual(r.code, 0, "gen-keys.sh cannot make keys/ where a dangling link stands");
});

test("the kickstart list, the dev stack's matrix and the doctor answer in the clone", { skip }, async () => {
    const ks = await npm(clone, "ks", "--", "--list");
    assert.equal(ks.code, 0, ks.stderr);
    assert.match(ks.stdout, /Rocky-9\.8/);
    const list = await npm(clone, "stage", "--", "--stack", "dev", "--list");
    assert.equal(list.code, 0, list.stderr);
    const matrix = JSON.parse(list.stdout.trim());
    assert.deepEqual(matrix.oses, ["Rocky-9.8"]);
    assert.ok(matrix.include.length >= 7, list.stdout);
    // The doctor's verdict depends on this machine (KVM or not); its table must be whole.
    const doctor = await npm(clone, "doctor", "--", "--json");
    assert.ok(doctor.code === 0 || doctor.code === 1, doctor.stderr);
    const report = JSON.parse(doctor.stdout.trim());
    assert.equal(report.stack, "dev");
    for (const id of ["packer", "qemu", "ansible", "build-key", "store"]) assert.ok(report.reports.some((r: { id: string }) => r.id === id), `doctor checks ${id}`);
    assert.ok(report.reports.find((r: { id: string }) => r.id === "build-key").ok, "the key npm run keys made is found");
});

test("the program loads in the clone as the Pulumi CLI loads it (type-checked, under mocks)", { skip }, async () => {
    const env = { ...process.env };
    delete env.TS_NODE_TRANSPILE_ONLY;
    const r = await run(process.execPath, [path.join(clone, "tests", "support", "cli-load.js")], { cwd: clone, env });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.equal(report.version, "0.0.0-dev");
    assert.ok(report.resources > 10, `the program registered its resources (${report.resources})`);
});
