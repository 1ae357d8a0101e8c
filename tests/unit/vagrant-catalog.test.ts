// The Vagrant catalog: pure add/replace/remove and ordering, the CLI's contract (JSON line,
// exit 2 naming the bad value), the lock under real concurrent processes, and — with Debian's
// vagrant — that `vagrant box add` accepts what we write and rejects a wrong checksum.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import {
    addToCatalog,
    addVersion,
    Catalog,
    CatalogInputError,
    compareSemver,
    readCatalog,
    removeFromCatalog,
    removeVersion,
    withLock,
} from "../../components/providers/virtualbox/vagrant-catalog";
import { repoRoot } from "../../components/recipe/paths";
import { missingTool, pool, run, tempDir } from "../support/tools";

const SHA_A = "a".repeat(64);
const SHA_B = "b".repeat(64);
const CLI = path.join(repoRoot, "scripts", "vagrant-catalog.ts");
const TS_ENV = { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" };

function cli(args: string[]) {
    return run(process.execPath, ["--require", "ts-node/register", CLI, ...args], { cwd: repoRoot, env: TS_ENV });
}

const req = (version: string, provider = "virtualbox", sha256 = SHA_A) => ({
    name: "gold/centos7",
    version,
    provider,
    url: `https://example.invalid/${version}/${provider}.box`,
    sha256,
});

test("add creates, replaces in place and keeps versions in semver order", () => {
    let c: Catalog | undefined;
    for (const v of ["1.10.0", "1.2.0", "1.2.0-rc.1", "0.9.9", "1.2.0-alpha"]) c = addToCatalog(c, req(v));
    assert.deepEqual(
        c!.versions.map((v) => v.version),
        ["0.9.9", "1.2.0-alpha", "1.2.0-rc.1", "1.2.0", "1.10.0"],
    );
    assert.equal(c!.name, "gold/centos7");
    c = addToCatalog(c, req("1.2.0", "libvirt"));
    c = addToCatalog(c, { ...req("1.2.0"), sha256: SHA_B.toUpperCase(), url: "file:///new.box" });
    const v12 = c.versions.find((v) => v.version === "1.2.0")!;
    assert.deepEqual(
        v12.providers.map((p) => [p.name, p.checksum, p.url]),
        [
            ["libvirt", SHA_A, "https://example.invalid/1.2.0/libvirt.box"],
            ["virtualbox", SHA_B, "file:///new.box"], // replaced, checksum lower-cased
        ],
    );
    assert.equal(c.versions.length, 5, "replacing does not duplicate a version");
});

test("compareSemver follows semver precedence", () => {
    const sorted = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "2.0.0", "10.0.0"];
    const shuffled = [...sorted].reverse();
    assert.deepEqual(shuffled.sort(compareSemver), sorted);
    assert.equal(compareSemver("1.0.0+build.5", "1.0.0"), 0, "build metadata has no precedence");
});

test("remove drops a provider, then the emptied version; absent is no error", () => {
    let c = addToCatalog(addToCatalog(addToCatalog(undefined, req("1.0.0")), req("1.0.0", "libvirt")), req("2.0.0"));
    let r = removeFromCatalog(c, "1.0.0", "libvirt");
    assert.equal(r.changed, true);
    assert.deepEqual(r.catalog.versions.map((v) => [v.version, v.providers.map((p) => p.name)]), [["1.0.0", ["virtualbox"]], ["2.0.0", ["virtualbox"]]]);
    r = removeFromCatalog(r.catalog, "1.0.0", "virtualbox");
    assert.deepEqual(r.catalog.versions.map((v) => v.version), ["2.0.0"]);
    assert.equal(removeFromCatalog(r.catalog, "3.0.0").changed, false);
    c = removeFromCatalog(r.catalog, "2.0.0").catalog;
    assert.deepEqual(c.versions, []);
});

test("remove --sha256 spares a newer entry: Pulumi's replace deletes the old one after adding the new", async () => {
    const file = path.join(tempDir("vcat"), "c.json");
    addVersion(file, req("1.4.0", "virtualbox", SHA_A)); // first `pulumi up`
    addVersion(file, req("1.4.0", "virtualbox", SHA_B)); // rebuild: the replacement's create
    const r = await cli(["remove", "--catalog", file, "--version", "1.4.0", "--provider", "virtualbox", "--sha256", SHA_A]); // then the old delete
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { catalog: file, versions: ["1.4.0"], changed: false });
    assert.equal(readCatalog(file)!.versions[0].providers[0].checksum, SHA_B);
    assert.deepEqual(removeVersion(file, "1.4.0", "virtualbox", undefined, SHA_B.toUpperCase()).versions, []);
});

test("unknown fields written by others survive an update", () => {
    const c = addToCatalog({ name: "gold/centos7", versions: [{ version: "1.0.0", status: "active", providers: [{ ...req("1.0.0"), checksum_type: "sha256", checksum: SHA_A, name: "virtualbox", architecture: "amd64" }] }], extra: 1 } as Catalog, req("1.0.0"));
    assert.equal(c.extra, 1);
    assert.equal(c.versions[0].status, "active");
    assert.equal(c.versions[0].providers[0].architecture, "amd64");
});

test("CLI add/remove: one JSON line, file kept with an empty list, no lock or temp left", async () => {
    const dir = tempDir("vcat");
    const file = path.join(dir, "sub", "centos7.json");
    let r = await cli(["add", "--catalog", file, "--name", "gold/centos7", "--version", "1.4.0", "--provider", "virtualbox", "--url", "file:///b/1.4.0.box", "--sha256", SHA_A]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { catalog: file, versions: ["1.4.0"], changed: true });
    assert.equal(r.stdout.trim().split("\n").length, 1);
    r = await cli(["add", "--catalog", file, "--name", "gold/centos7", "--version", "1.3.0", "--provider", "virtualbox", "--url", "file:///b/1.3.0.box", "--sha256", SHA_B, "--description", "CentOS 7 gold"]);
    assert.deepEqual(JSON.parse(r.stdout).versions, ["1.3.0", "1.4.0"]);
    assert.equal(readCatalog(file)!.description, "CentOS 7 gold");
    r = await cli(["remove", "--catalog", file, "--version", "1.4.0"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { catalog: file, versions: ["1.3.0"], changed: true });
    r = await cli(["remove", "--catalog", file, "--version", "1.3.0", "--provider", "virtualbox"]);
    assert.deepEqual(JSON.parse(r.stdout).versions, []);
    assert.deepEqual(readCatalog(file)!.versions, [], "the file stays, with its name, and an empty list");
    r = await cli(["remove", "--catalog", file, "--version", "1.3.0"]);
    assert.deepEqual(JSON.parse(r.stdout), { catalog: file, versions: [], changed: false });
    r = await cli(["remove", "--catalog", path.join(dir, "none.json"), "--version", "1.3.0"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.existsSync(path.join(dir, "none.json")), false, "remove never creates a catalog");
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ["centos7.json"]);
});

test("bad input is refused with a message naming the bad value", () => {
    const cases: Array<[Partial<ReturnType<typeof req>>, RegExp]> = [
        [{ version: "1.4" }, /version "1\.4" is not a semantic version/],
        [{ version: "v1.4.0" }, /version "v1\.4\.0"/],
        [{ version: "01.4.0" }, /version "01\.4\.0"/],
        [{ sha256: "abc" }, /sha256 "abc" is not 64 hexadecimal digits/],
        [{ sha256: "g".repeat(64) }, /sha256 "g{64}"/],
        [{ name: "centos7" }, /name "centos7" must be NAMESPACE\/BOX with exactly one slash/],
        [{ name: "a/b/c" }, /name "a\/b\/c"/],
        [{ provider: "vbox" }, /provider "vbox" is not one of: virtualbox, vmware_desktop/],
        [{ url: "centos.box" }, /url "centos\.box" is not an absolute URL/],
        [{ url: "ftp://h/x.box" }, /scheme ftp: — valid: file:, https:, http:/],
    ];
    for (const [over, msg] of cases) {
        assert.throws(() => addToCatalog(undefined, { ...req("1.4.0"), ...over }), (e: Error) => e instanceof CatalogInputError && msg.test(e.message), JSON.stringify(over));
    }
    // Another box's catalog is not silently taken over.
    assert.throws(() => addToCatalog(addToCatalog(undefined, req("1.0.0")), { ...req("1.0.0"), name: "gold/other" }), /name "gold\/other" does not match the catalog's name "gold\/centos7"/);
    assert.throws(() => removeFromCatalog({ name: "a/b", versions: [] }, "1.0.0", "vbox"), /provider "vbox"/);
});

test("CLI bad input: exit 2 naming the value, nothing written; a corrupt catalog: exit 1", async () => {
    const file = path.join(tempDir("vcat"), "c.json");
    const good = { "--catalog": file, "--name": "gold/centos7", "--version": "1.4.0", "--provider": "virtualbox", "--url": "file:///x.box", "--sha256": SHA_A };
    const argv = (over: Record<string, string>) => ["add", ...Object.entries({ ...good, ...over }).flat()];
    // Each CLI start costs ts-node's start-up (~1-2 s here): two at a time.
    const cases: Array<[string[], RegExp]> = [
        [argv({ "--version": "1.4" }), /version "1\.4" is not a semantic version/],
        [argv({ "--sha256": "abc" }), /sha256 "abc" is not 64 hexadecimal digits/],
        [["add", "--catalog", file], /^vagrant-catalog add: --name is required: the box's name, NAMESPACE\/BOX, e\.g\. --name gold\/rocky9 /],
        [["frob"], /^vagrant-catalog: unknown command: 'frob' is not valid; valid choices: add, remove /],
        [["remove", "--catalog", file, "--version", "1.0.0", "--url", "x"], /^vagrant-catalog remove: unknown option: '--url' is not valid; valid choices: --catalog, --version, --provider, --sha256, --help /],
        [argv({ "--provider": "vbox" }), /^vagrant-catalog add: --provider: 'vbox' is not valid; valid choices: virtualbox, vmware_desktop, /],
    ];
    const results = await pool(cases, 2, ([args]) => cli(args));
    results.forEach((r, i) => {
        assert.equal(r.code, 2, `${cases[i][0].join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, cases[i][1]);
        assert.equal(r.stdout, "");
    });
    assert.equal(fs.existsSync(file), false, "nothing written on bad input");

    // A corrupt catalog is an error naming the file, and is never overwritten.
    fs.writeFileSync(file, "{ not json");
    const r = await cli(argv({}));
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`catalog ${file} is not valid JSON`));
    assert.equal(fs.readFileSync(file, "utf8"), "{ not json");
});

test("concurrent adds from several processes all land", async () => {
    const dir = tempDir("vcat");
    const file = path.join(dir, "c.json");
    const procs = 6;
    const each = 5;
    // Each worker waits for a common start time, then adds its versions back to back, so the
    // processes really overlap (ts-node start-up alone would spread them out).
    const startAt = Date.now() + 5000;
    const worker = `
        const { addVersion } = require(${JSON.stringify(path.join(repoRoot, "components/providers/virtualbox/vagrant-catalog.ts"))});
        const [w, each, startAt, file] = process.argv.slice(1);
        const wait = Number(startAt) - Date.now();
        if (wait > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait);
        const first = Date.now();
        for (let i = 0; i < Number(each); i++) {
            addVersion(file, { name: "gold/centos7", version: "1." + w + "." + i, provider: "virtualbox",
                url: "file:///b/" + w + "/" + i + ".box", sha256: "${SHA_A}" });
        }
        process.stdout.write(JSON.stringify([first, Date.now()]));`;
    const t0 = Date.now();
    const results = await Promise.all(
        Array.from({ length: procs }, (_, w) => run(process.execPath, ["--require", "ts-node/register", "-e", worker, String(w), String(each), String(startAt), file], { cwd: repoRoot, env: TS_ENV })),
    );
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    // The workers really ran at the same time (else the lock was never contended).
    const spans = results.map((r) => JSON.parse(r.stdout) as [number, number]);
    const overlapping = spans.filter(([s]) => spans.some(([s2, e2]) => s2 !== s && s2 <= s && s < e2)).length;
    assert.ok(overlapping >= 1, `no two workers overlapped: ${JSON.stringify(spans)}`);
    const versions = readCatalog(file)!.versions.map((v) => v.version);
    const expected: string[] = [];
    for (let w = 0; w < procs; w++) for (let i = 0; i < each; i++) expected.push(`1.${w}.${i}`);
    assert.deepEqual(versions, expected.sort(compareSemver), "every add landed, in order");
    assert.deepEqual(fs.readdirSync(dir), ["c.json"], "no lock or temp file left");
    console.log(`# ${procs} processes × ${each} adds in ${Date.now() - t0} ms (incl. start-up)`);
});

test("a lock left by a dead process is broken; a live holder is waited for, then named", () => {
    const dir = tempDir("vcat");
    const file = path.join(dir, "c.json");
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]).stdout.toString();
    fs.writeFileSync(`${file}.lock`, JSON.stringify({ pid: Number(dead), host: os.hostname(), token: "x", time: Date.now() }));
    assert.deepEqual(addVersion(file, req("1.0.0")).versions, ["1.0.0"]);
    assert.equal(fs.existsSync(`${file}.lock`), false);

    // A lock from another host cannot be checked by pid: only age breaks it.
    fs.writeFileSync(`${file}.lock`, JSON.stringify({ pid: 1, host: "elsewhere", token: "y", time: 0 }));
    const old = new Date(Date.now() - 3600_000);
    fs.utimesSync(`${file}.lock`, old, old);
    assert.deepEqual(addVersion(file, req("2.0.0"), { staleMs: 60_000 }).versions, ["1.0.0", "2.0.0"]);

    // Held by this (live) process: not broken, and the timeout names the holder.
    withLock(file, () => {
        assert.throws(() => addVersion(file, req("3.0.0"), { timeoutMs: 300 }), new RegExp(`timed out after 300 ms waiting for lock .*held by pid ${process.pid}`));
    });
    assert.deepEqual(readCatalog(file)!.versions.map((v) => v.version), ["1.0.0", "2.0.0"]);
    assert.deepEqual(removeVersion(file, "1.0.0").versions, ["2.0.0"]);
});

// ---- for real: Debian's vagrant installs a box from a catalog we wrote ----

function makeBox(dir: string): { box: string; sha256: string } {
    const src = path.join(dir, "box");
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, "metadata.json"), JSON.stringify({ provider: "virtualbox" }));
    fs.writeFileSync(path.join(src, "Vagrantfile"), 'Vagrant.configure("2") do |config|\n  config.vm.box_check_update = false\nend\n');
    fs.writeFileSync(path.join(src, "box.ovf"), "<?xml version=\"1.0\"?><Envelope/>\n"); // content is not inspected by box add
    const box = path.join(dir, "gold-test.box");
    const tar = spawnSync("tar", ["-czf", box, "-C", src, "metadata.json", "Vagrantfile", "box.ovf"]);
    assert.equal(tar.status, 0, tar.stderr.toString());
    return { box, sha256: crypto.createHash("sha256").update(fs.readFileSync(box)).digest("hex") };
}

const noVagrant = missingTool("vagrant");

test("vagrant box add accepts our catalog and rejects a wrong checksum", { skip: noVagrant, timeout: 180_000 }, async () => {
    const dir = tempDir("vcat-vagrant");
    const { box, sha256 } = makeBox(dir);
    const env = { ...process.env, VAGRANT_HOME: path.join(dir, "vagrant.d"), VAGRANT_CHECKPOINT_DISABLE: "1", VAGRANT_NO_COLOR: "1" };

    let t = Date.now();
    const version = await run("vagrant", ["--version"], { env });
    console.log(`# vagrant --version: ${Date.now() - t} ms (${version.stdout.trim()})`);

    const good = path.join(dir, "good.json");
    const r = await cli(["add", "--catalog", good, "--name", "gold/test", "--version", "1.4.0", "--provider", "virtualbox", "--url", pathToFileURL(box).href, "--sha256", sha256]);
    assert.equal(r.code, 0, r.stderr);
    t = Date.now();
    const added = await run("vagrant", ["box", "add", "--provider", "virtualbox", good], { env });
    console.log(`# vagrant box add: ${Date.now() - t} ms`);
    assert.equal(added.code, 0, added.stdout + added.stderr);
    assert.match(added.stdout, /Successfully added box 'gold\/test' \(v1\.4\.0\) for 'virtualbox'/);
    const list = await run("vagrant", ["box", "list"], { env });
    assert.match(list.stdout, /gold\/test\s+\(virtualbox, 1\.4\.0\)/);

    const bad = path.join(dir, "bad.json");
    await cli(["add", "--catalog", bad, "--name", "gold/bad", "--version", "1.4.0", "--provider", "virtualbox", "--url", pathToFileURL(box).href, "--sha256", "0".repeat(64)]);
    const rejected = await run("vagrant", ["box", "add", "--provider", "virtualbox", bad], { env });
    assert.notEqual(rejected.code, 0);
    assert.match(rejected.stderr + rejected.stdout, /checksum of the downloaded box did not match/);
    assert.match(rejected.stderr + rejected.stdout, new RegExp(`Received: ${sha256}`));
    const after = await run("vagrant", ["box", "list"], { env });
    assert.doesNotMatch(after.stdout, /gold\/bad/);
});

if (noVagrant) console.log(`# SKIP vagrant box add: ${noVagrant}`);
