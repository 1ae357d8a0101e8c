// End to end, for real: index.ts runs through the harness (components/engine/harness.ts), so every
// stage command the program generates executes — Packer 1.6.6 + QEMU (TCG) for the base, the
// real Ansible roles + cleanup + zero in a chroot for each variant (variantMode chroot), then
// every conversion, then every first-boot test (each image read offline, then booted the way
// its cloud starts a machine, a user let in with a key made for the test) — from a Debian 12
// base disk built by mmdebstrap. Then every artifact is checked independently of
// the code that made it. The artifact store, the state and the logs live outside the checkout
// (GOLD_E2E_HOME, default a directory of the system's temp named after the checkout): a run
// after artifacts/ is removed is a run on a fresh machine with the same state and store.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { repoRoot } from "../../components/recipe/paths";
import { providerNames } from "../../components/providers";
import { missingTool, run, tempDir } from "../support/tools";
import { baseDisk, type RunReport, stackConfig, up as runUp } from "./setup";
import { liveQemuCount } from "../../components/firstboot/vm";
import { TESTED_ARCHIVE } from "../../components/firstboot/container";
import { inspectImage } from "../../components/firstboot/inspect";
import { brokenCopies, failuresOf, tamperCases, tamperRows, tamperTest } from "./tamper";
import type { UefiVariable } from "../../components/firstboot/uefi-vars";

const REQUIRED = ["packer", "qemu-system-x86_64", "qemu-img", "ansible-playbook", "mmdebstrap", "eatmydata", "guestfish", "vagrant", "sfdisk", "mke2fs", "zstd", "genisoimage", "ssh"];
const skip = process.getuid?.() !== 0 ? "needs root (mmdebstrap)" : REQUIRED.map(missingTool).find(Boolean);

// GOLD_E2E_PROVIDERS=openstack,gcp runs a subset (the default is all seven).
const providers = process.env.GOLD_E2E_PROVIDERS?.split(",") ?? providerNames();
const badProvider = providers.find((p) => !providerNames().includes(p));
if (badProvider) throw new Error(`GOLD_E2E_PROVIDERS: '${badProvider}' is not valid; valid choices: ${providerNames().join(", ")}`);
/** The provider whose role the rebuild test edits, and the one whose stage the kill test stops. */
// virtualbox's role is the lightest (a user and sudo): its rebuild is the shortest.
const edited = providers.includes("virtualbox") ? "virtualbox" : providers[0];
const killed = providers.includes("gcp") ? "gcp" : providers[0];
const has = (p: string) => providers.includes(p);

const work = path.join(repoRoot, "artifacts", "e2e");
const home = process.env.GOLD_E2E_HOME ?? path.join(os.tmpdir(), `gold-e2e-${createHash("sha256").update(repoRoot).digest("hex").slice(0, 8)}`);
const storeDir = path.join(home, "store");
const stateFile = path.join(home, "state.json");
const logDir = path.join(home, "logs");
const scratch = tempDir("e2e");
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

let config: Record<string, unknown>;
let first: RunReport;
const timings: Record<string, number> = {};

/** Later checks need the first run's artifacts: without them they skip, saying why. */
function needsFirstRun(t: { skip: (why: string) => void }): boolean {
    if (first?.ok) return true;
    t.skip("the first run failed: nothing to check");
    return false;
}

const stateOf = () => JSON.parse(fs.readFileSync(stateFile, "utf8")).commands as Record<string, { stdout: string; create: string; triggers: unknown[] }>;
const artifactOf = (p: string) => first.images!["Debian-12"][p].artifact;
/** A file a stage stored (its manifest in the store names it), e.g. build.log, SHA256SUMS, serial.log. */
function storedFile(stage: string, rel: string, state = stateOf()): string | undefined {
    const { fingerprint } = JSON.parse(state[`${stage}-run`].stdout);
    const manifest = JSON.parse(fs.readFileSync(path.join(storeDir, "stages", fingerprint, "manifest.json"), "utf8"));
    const f = manifest.files.find((x: { path: string }) => x.path === rel);
    return f && path.join(storeDir, ...f.key.split("/"));
}

before(async () => {
    if (skip) return;
    fs.mkdirSync(work, { recursive: true });
    fs.mkdirSync(home, { recursive: true });
    const started = Date.now();
    const disk = await baseDisk(path.join(work, "base-disk"));
    timings["debian base disk (mmdebstrap, or cache)"] = (Date.now() - started) / 1000;
    config = stackConfig(providers, disk, `file://${storeDir}`);
});

/** One `pulumi up` of this repo (or of a copy) with this test's config, state and logs. */
const up = (opts: { root?: string; env?: Record<string, string>; state?: string; config?: Record<string, unknown>; traceOpens?: string } = {}) =>
    runUp({ config: opts.config ?? config, stack: "0.0.0-e2e", state: opts.state ?? stateFile, logs: logDir, root: opts.root, env: opts.env, traceOpens: opts.traceOpens });

test("the program's own commands build the base, every provider's variant and every conversion", { skip }, async () => {
    const started = Date.now();
    first = await up();
    timings["first run (all stages that were not in the state)"] = (Date.now() - started) / 1000;
    // A command's wall time includes its wait for a build slot; Packer's own time is in its build.log.
    for (const e of first.executed) if (e.action === "create") timings[`command ${e.name} (slot wait included)`] = e.seconds;
    assert.ok(first.ok, first.error);
    const state = stateOf();
    for (const name of Object.keys(state).filter((n) => n.endsWith("-run"))) {
        const log = storedFile(name.replace(/-run$/, ""), "build.log", state);
        const took = log && /finished after (?:(\d+) minutes? )?(?:(\d+) seconds?)?/.exec(fs.readFileSync(log, "utf8"));
        if (took) timings[`packer ${name}`] = Number(took[1] ?? 0) * 60 + Number(took[2] ?? 0);
    }
    assert.deepEqual(Object.keys(first.images!["Debian-12"]).sort(), [...providers].sort());
    for (const name of ["Debian-12-base-run", ...providers.flatMap((p) => [`Debian-12-${p}-run`, `Debian-12-${p}-convert-run`, `Debian-12-${p}-test-run`])]) {
        assert.ok(state[name], `${name} is in the state`);
    }
    for (const p of providers) {
        assert.ok(fs.statSync(artifactOf(p)).size > 0, `${p} artifact exists`);
        assert.ok(artifactOf(p).startsWith(`${storeDir}/blobs/`), `${p}: its artifact is in the store: ${artifactOf(p)}`);
    }
    // Every stage is in the store: the build directories are gone.
    const baseDir = path.join(repoRoot, "artifacts/0.0.0-e2e/Debian-12/base");
    assert.deepEqual(fs.existsSync(baseDir) ? fs.readdirSync(baseDir).filter((f) => /^[0-9a-f]{12}$/.test(f)) : [], []);
});

test("every build ran on the restricted network: inside the base's QEMU guest and each variant's chroot, the mirror answered only through the build proxy, which refused the metadata service", { skip }, async (t) => {
    if (!needsFirstRun(t)) return;
    const state = stateOf();
    for (const stage of ["Debian-12-base", ...providers.map((p) => `Debian-12-${p}`)]) {
        const file = storedFile(stage, "build.log", state);
        assert.ok(file, `${stage}: build.log is stored`);
        const log = fs.readFileSync(file, "utf8");
        // The proxy's own lines, then the role's verdict from inside the build (ansible/roles/build_network).
        assert.match(log, /build-proxy: the build reaches only deb\.debian\.org:80[ ,]/, `${stage}: the build proxy ran with the OS file's mirror only`);
        assert.match(log, /build-proxy: refused GET 169\.254\.169\.254: 169\.254\.169\.254:80 is not on the build's allow list/, `${stage}: the proxy refused the guest's request for the metadata service`);
        assert.match(log, /build network: restricted/, `${stage}: role build_network passed inside the build`);
    }
});

async function sh(cmd: string): Promise<string> {
    const r = await run("bash", ["-c", cmd]);
    assert.equal(r.code, 0, `${cmd}\n${r.stderr}`);
    return r.stdout;
}

const info = async (file: string, format: string) => JSON.parse(await sh(`qemu-img info --output=json -f ${format} '${file}'`));
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

test("every artifact passes its format's checks, and SHA256SUMS match", { skip }, async (t) => {
    if (!needsFirstRun(t)) return;
    const base = JSON.parse(stateOf()["Debian-12-base-run"].stdout).artifact;
    await sh(`qemu-img check -f qcow2 '${base}'`);
    if (has("openstack")) await sh(`qemu-img check -f qcow2 '${artifactOf("openstack")}'`);
    if (has("aws")) assert.equal((await info(artifactOf("aws"), "vpc")).format, "vpc");
    if (has("azure")) {
        const azure = await info(artifactOf("azure"), "vpc");
        assert.equal(azure["virtual-size"] % MiB, 0, "Azure: virtual size a whole number of MiB");
        assert.equal(fs.statSync(artifactOf("azure")).size, azure["virtual-size"] + 512, "Azure: a fixed VHD is the disk plus a 512-byte footer");
    }
    if (has("gcp")) await checkGcp();
    if (has("vmware")) await checkOva();
    if (has("docker")) await checkRootfs();
    // Each conversion's SHA256SUMS (stored with it) names its artifact with that artifact's sum.
    for (const p of providers) {
        const sums = fs.readFileSync(storedFile(`Debian-12-${p}-convert`, "SHA256SUMS")!, "utf8");
        const sum = (await sh(`sha256sum '${artifactOf(p)}'`)).split(" ")[0];
        assert.ok(sums.split("\n").includes(`${sum}  ${path.basename(artifactOf(p))}`), `${p}: ${sums}`);
        assert.equal(sum, first.images!["Debian-12"][p].sha256);
    }
});

async function checkGcp(): Promise<void> {
    const gcp = await sh(`tar -tvzf '${artifactOf("gcp")}'`);
    const members = gcp.trim().split("\n");
    assert.equal(members.length, 1, gcp);
    assert.match(members[0], /\sdisk\.raw$/);
    const size = Number(members[0].split(/\s+/)[2]);
    assert.equal(size % GiB, 0, "GCP: disk.raw is a whole number of GiB");
    const header = await sh(`gzip -dc '${artifactOf("gcp")}' | head -c 512 | tail -c +258 | head -c 8 | od -An -c`);
    assert.match(header, /u\s+s\s+t\s+a\s+r\s+\s+\s/, "GCP: GNU (oldgnu) tar header");
}

async function checkOva(): Promise<void> {
    const ova = (await sh(`tar -tf '${artifactOf("vmware")}'`)).trim().split("\n");
    assert.match(ova[0], /\.ovf$/, "OVA: the descriptor comes first");
    const ovaDir = path.join(scratch, "ova");
    fs.mkdirSync(ovaDir);
    await sh(`tar -xf '${artifactOf("vmware")}' -C '${ovaDir}'`);
    const mf = fs.readFileSync(path.join(ovaDir, ova.find((m) => m.endsWith(".mf"))!), "utf8").trim().split("\n");
    assert.equal(mf.length, ova.length - 1, "OVA: the manifest lists every other member");
    for (const line of mf) {
        const [, file, sum] = /^SHA256\((.+)\)= ([0-9a-f]{64})$/.exec(line)!;
        assert.equal(createHash("sha256").update(fs.readFileSync(path.join(ovaDir, file))).digest("hex"), sum, `OVA: ${file}`);
    }
}

async function checkRootfs(): Promise<void> {
    const rootfs = await sh(`tar -tzf '${artifactOf("docker")}'`);
    const entries = rootfs.split("\n").map((e) => e.replace(/^\.\//, ""));
    assert.ok(entries.includes("etc/os-release"), "Docker: etc/os-release");
    for (const dir of ["proc/", "sys/", "dev/"]) {
        assert.deepEqual(entries.filter((e) => e.startsWith(dir) && e !== dir), [], `Docker: nothing under ${dir}`);
    }
}

test("Vagrant: Debian's vagrant adds the box from the generated catalog and checks its sha256", { skip: skip ?? (has("virtualbox") ? undefined : "virtualbox not in GOLD_E2E_PROVIDERS") }, async (t) => {
    if (!needsFirstRun(t)) return;
    const box = artifactOf("virtualbox");
    const sum = first.images!["Debian-12"].virtualbox.sha256;
    const catalog = path.join(scratch, "Debian-12.json");
    const add = await run(process.execPath, ["--require", "ts-node/register", path.join(repoRoot, "scripts/vagrant-catalog.ts"), "add", "--catalog", catalog, "--name", "gold/Debian-12", "--version", "0.0.0-e2e", "--provider", "virtualbox", "--url", `file://${box}`, "--sha256", sum], {
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
    });
    assert.equal(add.code, 0, add.stderr);
    // 0.0.0-e2e is a prerelease: Vagrant (RubyGems' rules) only adds one asked for by version.
    const vagrant = await run("vagrant", ["box", "add", "--provider", "virtualbox", "--box-version", "0.0.0-e2e", catalog], { env: { ...process.env, VAGRANT_HOME: path.join(scratch, "vagrant") } });
    assert.equal(vagrant.code, 0, vagrant.stdout + vagrant.stderr);
    assert.match(vagrant.stdout, /Successfully added box 'gold\/Debian-12' \(v0\.0\.0-e2e\)/);
});

test("every image passed its first-boot test: its cloud's way in, with a key made for the test, and its contract", { skip }, async (t) => {
    if (!needsFirstRun(t)) return;
    // The edit-and-rebuild test's runs go on beside the checks that follow (one build would leave a core idle).
    rebuildInBackground().catch(() => undefined);
    for (const p of providers) {
        const fb = first.images!["Debian-12"][p].firstBoot as { login: string; checks: { name: string; ok: boolean }[]; seconds: number };
        assert.ok(fb && typeof fb === "object", `${p}: tested`);
        assert.ok(fb.checks.length > 0 && fb.checks.every((c) => c.ok), `${p}: ${JSON.stringify(fb.checks)}`);
        timings[`first boot ${p}`] = fb.seconds;
        t.diagnostic(`${p}: ${fb.login}; ${fb.checks.length} checks; ${fb.seconds.toFixed(0)} s`);
    }
    // openstack.metadata "both" (the default): a boot each way, each found by its own datasource.
    if (has("openstack")) {
        const names = (first.images!["Debian-12"].openstack.firstBoot as { checks: { name: string; ok: boolean }[] }).checks.map((c) => c.name);
        assert.ok(names.includes("config-drive: cloud-init ran from the config drive and finished without errors"), `openstack: the config drive boot: ${names.join("; ")}`);
        assert.ok(names.includes("metadata-service: cloud-init ran from the OpenStack metadata service and finished without errors"), `openstack: the metadata service boot: ${names.join("; ")}`);
    }
    // Each machine booted the way its cloud boots the image (the images output's `boot`), proven
    // from inside: the clouds that boot UEFI by default under Secure Boot with a TPM on NVMe, the
    // others through the same disk's BIOS path.
    const boots: Record<string, string> = {};
    for (const p of providers.filter((p) => p !== "docker")) {
        const image = first.images!["Debian-12"][p] as { boot?: string; firstBoot: { checks: { name: string; ok: boolean }[] } };
        const passed = (name: string) => image.firstBoot.checks.some((c) => c.ok && c.name.endsWith(name));
        boots[p] = String(image.boot);
        if (image.boot === "bios") assert.ok(passed("started by BIOS (the disk's BIOS boot path)"), `${p}: BIOS`);
        else assert.ok(passed("started by UEFI firmware") && passed('control: "started by BIOS (the disk\'s BIOS boot path)" fails here'), `${p}: UEFI`);
        if (/secure-boot/.test(String(image.boot))) assert.ok(passed("Secure Boot on (the firmware's SecureBoot variable is 1; the kernel in lockdown)"), `${p}: Secure Boot`);
        if (/tpm/.test(String(image.boot))) assert.ok(passed("a TPM 2.0 (/dev/tpm0 and /dev/tpmrm0)"), `${p}: TPM`);
        if (/secure-boot\+tpm/.test(String(image.boot))) assert.ok(passed("the measured boot log (the firmware's TPM event log)"), `${p}: the measured boot log`);
    }
    t.diagnostic(`boots: ${JSON.stringify(boots)}`);
    for (const p of ["aws", "azure", "gcp"].filter(has)) {
        assert.equal(boots[p], "uefi+secure-boot+tpm", `${p}: its cloud boots the image UEFI under Secure Boot, with a vTPM`);
        assert.ok((first.images!["Debian-12"][p].firstBoot as { checks: { name: string; ok: boolean }[] }).checks.some((c) => c.ok && c.name === "root on the nvme disk"), `${p}: root on NVMe`);
    }
    for (const p of ["openstack", "virtualbox"].filter(has)) assert.equal(boots[p], "bios", `${p}: the disk's BIOS path`);
    // Every test kept its serial console and report, in the store with it.
    for (const p of providers) {
        assert.equal(JSON.parse(fs.readFileSync(storedFile(`Debian-12-${p}-test`, "result.json")!, "utf8")).ok, true, `${p}: result.json`);
        if (p !== "docker") assert.ok(fs.statSync(storedFile(`Debian-12-${p}-test`, "serial.log")!).size > 0, `${p}: its serial console is kept`);
    }
    if (has("aws")) {
        // The keys the AMI registers (uefiData) are the ones the Secure Boot test's NVRAM started with.
        const keys = JSON.parse(fs.readFileSync(storedFile("Debian-12-aws-test", "result.json")!, "utf8")).secureBootKeys as UefiVariable[];
        assert.deepEqual(keys.map((k) => k.name), ["PK", "KEK", "db", "dbx"], "aws: the Secure Boot keys for uefiData");
        assert.match(Buffer.from(keys[1].data, "base64").toString("latin1"), /Microsoft Corporation KEK CA 2011/);
    }
    // The docker test stored the image it ran, which its publisher loads and pushes: that very image (its config is its id).
    if (has("docker")) {
        const fb = first.images!["Debian-12"].docker.firstBoot as { image?: string };
        const archive = storedFile("Debian-12-docker-test", TESTED_ARCHIVE);
        assert.ok(archive && fb.image, `docker: the tested image (${fb.image}) stored with its test`);
        const manifest = JSON.parse(execFileSync("tar", ["-xzOf", archive!, "manifest.json"], { encoding: "utf8" }));
        assert.equal(String(manifest[0].Config).replace(/^(blobs\/sha256\/)?/, "").replace(/\.json$/, ""), fb.image!.replace(/^sha256:/, ""));
    }
    assert.equal(liveQemuCount(), 0, "no QEMU of the tests left running");
});

test("cleanup held in every image, read offline before its first boot: no host keys, empty machine-id, no build key, no key, password or passwordless sudo of anyone", { skip }, async (t) => {
    if (!needsFirstRun(t)) return;
    // The first-boot test read each machine image once, before booting it (components/firstboot/offline.ts).
    const offline = [
        "offline: no SSH host keys in the image",
        "offline: an empty machine-id (each machine makes its own)",
        "offline: root's password locked",
        "offline: no user with a password",
        "offline: no build key in the image",
        "offline: no SSH key in any authorized_keys (the cloud gives the user's)",
        "offline: no passwordless sudo",
    ];
    for (const p of providers.filter((p) => p !== "docker")) {
        const checks = (first.images!["Debian-12"][p].firstBoot as { checks: { name: string; ok: boolean }[] }).checks;
        for (const name of offline) assert.ok(checks.some((c) => c.name === name && c.ok), `${p}: ${name}: ${JSON.stringify(checks.filter((c) => c.name.startsWith("offline")))}`);
    }
});

/** The first run's artifact of a provider, and its qemu-img format (a tamper copy is an overlay on it). */
function diskArtifact(p: "openstack" | "azure"): { image: string; format: "qcow2" | "vpc" } {
    return { image: artifactOf(p), format: p === "azure" ? "vpc" : "qcow2" };
}

test("the tamper table: each copy of an image broken one way fails its first-boot test, naming the broken check", { skip: skip || (!has("openstack") && "needs the openstack image") }, async (t) => {
    if (!needsFirstRun(t)) return;
    const buildKey = fs.readFileSync(path.join(repoRoot, "keys", "packer.pub"), "utf8");
    const rows = tamperRows(buildKey).filter((r) => has(r.provider));
    const table: string[] = [];
    const made = Date.now();
    const cases = tamperCases(rows, (i) => path.join(scratch, `tamper-${i}`), diskArtifact);
    const copies = await brokenCopies(cases);
    timings["tamper: every broken copy made (one guestfish session)"] = (Date.now() - made) / 1000;
    // Two at a time: a core each (a copy is an offline read, and a boot for some: those first,
    // so that the reads fill the other core meanwhile).
    const queue = cases.map((c, i) => ({ c, copy: copies[i] })).sort((a, b) => Number(a.c.rows[0].offline) - Number(b.c.rows[0].offline));
    const worker = async () => {
        for (let next = queue.shift(); next; next = queue.shift()) {
            const { rows } = next.c;
            const started = Date.now();
            const r = await tamperTest(next.c, next.copy, buildKey);
            const seconds = (Date.now() - started) / 1000;
            const what = rows.map((row) => row.what).join(" + ");
            timings[`tamper: ${what}`] = seconds;
            assert.equal(r.ok, false, `${what}: the broken copy passed`);
            // Each row's check fails, and (rows sharing a copy) no check that none of them breaks.
            const failures = failuresOf(r);
            for (const row of rows) {
                const failure = failures.find((f) => row.check.test(f));
                assert.ok(failure, `${row.what}: its check did not fail: ${failures.join("; ") || r.failure}`);
                assert.equal(r.login === "none (refused before booting)", row.offline, `${row.what}: ${row.offline ? "refused before its boot" : "booted"} (${r.login})`);
                table.push(`| ${row.what} | ${row.provider} | ${failure.replace(/^check failed: /, "").slice(0, 100)} | ${seconds.toFixed(0)} s${rows.length > 1 ? " (one copy, one test)" : ""} |`);
            }
            if (rows.length > 1) for (const f of failures) assert.ok(rows.some((row) => row.check.test(f)), `${what}: a failure none of its breaks explains: ${f}`);
            else assert.match(r.failure ?? "", rows[0].check, `${what}: ${r.failure}`);
        }
    };
    await Promise.all([worker(), worker()]);
    for (const line of table) t.diagnostic(line);
});

test("on a fresh machine (artifacts/ removed, the state and the store kept) a run executes no stage command and opens no file of the artifacts or the store", { skip }, async (t) => {
    if (!needsFirstRun(t)) return;
    const artifacts = path.join(repoRoot, "artifacts");
    fs.rmSync(artifacts, { recursive: true, force: true });
    const trace = path.join(home, "opens.json");
    const started = Date.now();
    const again = await up({ traceOpens: trace });
    timings["second run on a fresh machine (nothing changed)"] = (Date.now() - started) / 1000;
    assert.ok(again.ok, again.error);
    assert.deepEqual(again.executed, []);
    // Every stage, and the stack's references in the store.
    assert.equal(again.skipped.length, 1 + 3 * providers.length + 1);
    const opens = (JSON.parse(fs.readFileSync(trace, "utf8")).opens as { path: string; bytes: number }[]).filter((o) => !o.path.startsWith(home + "/logs"));
    const touched = opens.filter((o) => o.path === artifacts || o.path.startsWith(`${artifacts}/`) || o.path.startsWith(`${storeDir}/`));
    assert.deepEqual(touched.map((o) => o.path), [], "no file of the artifacts or the store is opened");
    const bytes = opens.reduce((n, o) => n + o.bytes, 0);
    timings[`fresh-machine run: ${opens.length} files opened, MB read`] = bytes / 1e6;
    t.diagnostic(`${opens.length} files opened, ${(bytes / 1e6).toFixed(1)} MB (the SDKs, the recipe, the state), none under artifacts/ or the store`);
    // The artifacts' directory belongs to another machine now: the outputs still name the store's files.
    const images = again.images!["Debian-12"];
    for (const p of providers) assert.equal(images[p].sha256, first.images!["Debian-12"][p].sha256);
    fs.mkdirSync(work, { recursive: true });
});

test("a second version of the same recipe (a new stack, its own state) builds, converts and boots nothing: every stage is found in the store", { skip }, async (t) => {
    if (!needsFirstRun(t)) return;
    const stack = "0.0.1-e2e";
    const logs = path.join(home, `logs-${stack}`);
    fs.rmSync(logs, { recursive: true, force: true });
    const state = path.join(home, `state-${stack}.json`);
    fs.rmSync(state, { force: true });
    const started = Date.now();
    const second = await runUp({ config, stack, state, logs });
    timings["second version: every stage found in the store"] = (Date.now() - started) / 1000;
    assert.ok(second.ok, second.error);
    const stageRuns = second.executed.filter((e) => e.name !== "store-references-write");
    assert.equal(stageRuns.length, 1 + 3 * providers.length, "every stage's command ran once (a new stack's state is empty)");
    for (const e of stageRuns) {
        const said = fs.readFileSync(path.join(logs, `${e.name}.stderr.log`), "utf8");
        assert.match(said, /found in .*: not built/, `${e.name} was found, not built:\n${said.slice(-1500)}`);
        assert.doesNotMatch(said, /built and stored in/, `${e.name} built`);
    }
    // The same stages (the store is shared with the rebuild test, which may be adding its own meanwhile).
    const fingerprints = (commands: Record<string, { stdout: string }>) =>
        Object.entries(commands).filter(([n]) => n.endsWith("-run") && n !== "store-references-write").map(([n, c]) => `${n} ${JSON.parse(c.stdout).fingerprint}`).sort();
    assert.deepEqual(fingerprints(JSON.parse(fs.readFileSync(state, "utf8")).commands), fingerprints(stateOf()));
    // The same bytes, published under the new version's names.
    for (const p of providers) assert.equal(second.images!["Debian-12"][p].sha256, first.images!["Debian-12"][p].sha256, p);
    t.diagnostic(`${stageRuns.length} stage commands, each found in the store, in ${timings["second version: every stage found in the store"].toFixed(0)} s`);
    fs.rmSync(path.join(repoRoot, "artifacts", stack), { recursive: true, force: true });
});

/**
 * A copy of the repo (node_modules linked) whose role of the `edited` provider is edited: it
 * marks the image and, for virtualbox, breaks the box's way in (Vagrant's key removed).
 */
function editedCopy(): string {
    const copy = path.join(scratch, "repo");
    fs.mkdirSync(copy);
    for (const entry of fs.readdirSync(repoRoot)) {
        if (["artifacts", ".git", "node_modules", "keys"].includes(entry)) continue;
        fs.cpSync(path.join(repoRoot, entry), path.join(copy, entry), { recursive: true });
    }
    for (const link of ["node_modules", "keys"]) fs.symlinkSync(path.join(repoRoot, link), path.join(copy, link));
    const breakIn = edited === "virtualbox" ? "\n- name: Remove Vagrant's key (the way in, broken by the end-to-end test)\n  ansible.builtin.file:\n    path: /home/vagrant/.ssh/authorized_keys\n    state: absent\n" : "";
    fs.appendFileSync(
        path.join(copy, `ansible/roles/${edited}/tasks/main.yml`),
        "\n- name: Mark the image (edited by the end-to-end test)\n  ansible.builtin.copy:\n    dest: /etc/gold-e2e-edit\n    content: \"edited\\n\"\n    mode: \"0644\"\n" + breakIn,
    );
    return copy;
}

/**
 * In a copy whose `edited` role is edited, publishing that provider: a run with
 * GOLD_INJECT_FAILURE fails its variant and leaves nothing; the rerun builds only that
 * provider's variant and conversion, which carry the edit, and its first-boot test — which,
 * the way in broken, fails within its bounded wait: the publish never runs.
 */
async function editFailRebuild(): Promise<void> {
    const copy = editedCopy();
    // The copy's state holds the base only: the edited provider's stages are new there, so no
    // old `delete` reaches into this repo's artifacts (which later runs on this machine reuse).
    const state = path.join(scratch, "state.json");
    const commands = Object.fromEntries(Object.entries(stateOf()).filter(([name]) => name === "Debian-12-base-run"));
    fs.writeFileSync(state, JSON.stringify({ commands }));
    // Publishing on (the test asserts nothing is published) where the provider needs no cloud settings.
    const copyConfig = { ...config, providers: [edited], publish: edited === "virtualbox" };

    const failed = await up({ root: copy, state, config: copyConfig, env: { GOLD_INJECT_FAILURE: "true" } });
    assert.equal(failed.ok, false);
    assert.match(failed.error ?? "", new RegExp(`Debian-12-${edited}-run: create failed`));
    // The copy lives elsewhere: the base command's `dir` changed, an update (re-printing the
    // stored result), as the engine would do; no other stage is created.
    // (The copy's stack writes its own references to the store: another set of fingerprints.)
    assert.deepEqual(failed.executed.filter((e) => e.action !== "update" && e.name !== "store-references-write").map((e) => `${e.name} ${e.ok}`), [`Debian-12-${edited}-run false`]);
    assert.ok(failed.executed.filter((e) => e.action === "update").every((e) => e.ok), "every update succeeded");
    const editedDir = path.join(copy, `artifacts/0.0.0-e2e/Debian-12/${edited}`);
    // (The build's lock file stays: an flock on a file that is removed and made again would not exclude.)
    const leftovers = fs.existsSync(editedDir) ? fs.readdirSync(editedDir).filter((f) => !f.endsWith(".failed.log") && !f.endsWith(".lock")) : [];
    assert.deepEqual(leftovers, [], "no artifact directory, only the failure log");
    assert.equal(JSON.parse(fs.readFileSync(state, "utf8")).commands[`Debian-12-${edited}-run`], undefined, "nothing recorded");

    const started = Date.now();
    const retried = await up({ root: copy, state, config: copyConfig });
    timings[`rebuild after editing the ${edited} role (variant, conversion, failing test)`] = (Date.now() - started) / 1000;
    const created = retried.executed.filter((e) => e.action === "create" && e.name !== "store-references-write");
    assert.deepEqual(created.map((e) => `${e.name} ${e.ok}`).sort(), [`Debian-12-${edited}-convert-run true`, `Debian-12-${edited}-run true`, `Debian-12-${edited}-test-run ${edited !== "virtualbox"}`].sort());
    if (edited === "virtualbox") {
        assert.equal(retried.ok, false);
        assert.match(retried.error ?? "", new RegExp(`Debian-12-${edited}-test-run: create failed`));
        assert.match(retried.error ?? "", /no login as vagrant/, "the failure names what failed");
        const test = created.find((e) => e.name.endsWith("-test-run"))!;
        timings["first boot with the way in broken, until it fails"] = test.seconds;
        assert.ok(test.seconds < 900, `the failing test is bounded: ${test.seconds} s`);
        assert.deepEqual(retried.executed.filter((e) => e.name.includes("-publish")), [], "nothing of the publish ran");
        const failedOut = fs.readdirSync(path.join(editedDir, "tested")).find((f) => f.endsWith(".failed"));
        assert.ok(failedOut && fs.statSync(path.join(editedDir, "tested", failedOut, "serial.log")).size > 0, "the serial console is kept beside the artifact");
    }
    // The variant's qcow2 (before conversion) carries the edit.
    const variant = JSON.parse(JSON.parse(fs.readFileSync(state, "utf8")).commands[`Debian-12-${edited}-run`].stdout).artifact;
    const seen = await inspectImage(variant, "qcow2", { files: ["/etc/gold-e2e-edit"] });
    assert.equal(seen.files["/etc/gold-e2e-edit"], "edited\n", "the edited role ran");
}

let rebuilding: Promise<void> | undefined;
/** Started once, by the boot test (beside the boots) or else by its own test. */
const rebuildInBackground = () => (rebuilding ??= editFailRebuild());

test("a failing role leaves no artifact and records nothing; after editing one role only that provider rebuilds, and an image its users cannot get into is never published", { skip }, async (t) => {
    if (!needsFirstRun(t)) return;
    await rebuildInBackground();
});

/** The chroot build's mounts and loop devices for an output directory (scripts/chroot-variant.sh's key). */
async function chrootLeftovers(outputDir: string): Promise<{ mounts: string[]; loops: string[] }> {
    const root = path.join("/run/gold-chroot", createHash("sha256").update(`${outputDir}.partial`).digest("hex").slice(0, 16));
    const mounts = (await run("findmnt", ["-rn", "-o", "TARGET"])).stdout.split("\n").filter((m) => m === `${root}/root` || m.startsWith(`${root}/root/`));
    const loops = (await run("losetup", ["--list", "--noheadings", "--raw", "-O", "NAME,BACK-FILE"])).stdout.split("\n").filter((l) => l.includes(`${outputDir}.partial/`));
    return { mounts, loops };
}

test("killing a stage mid-build leaves no process, mount, loop device or half-written file; after a kill -9 the retry releases what it left and builds", { skip }, async (t) => {
    if (!needsFirstRun(t)) return;
    const state = stateOf();
    const command = state[`Debian-12-${killed}-run`].create;
    const dir = /--dir (\S+)/.exec(command)![1];
    const target = path.join(scratch, "killed");
    // The stage's own command line, with a store that holds its input (the base) only: it builds.
    const store = path.join(scratch, "kill-store");
    const base = JSON.parse(state["Debian-12-base-run"].stdout).fingerprint;
    const manifest = path.join("stages", base, "manifest.json");
    for (const key of [manifest, ...JSON.parse(fs.readFileSync(path.join(storeDir, manifest), "utf8")).files.map((f: { key: string }) => f.key)]) {
        fs.mkdirSync(path.dirname(path.join(store, key)), { recursive: true });
        if (!fs.existsSync(path.join(store, key))) fs.linkSync(path.join(storeDir, key), path.join(store, key));
    }
    const line = command.split(dir).join(target).replace(`--store file://${storeDir} `, `--store file://${store} `);
    assert.ok(line.includes(`--store file://${store} `), line);
    const chroot = line.includes("-only=null.variant");
    // A session of its own: a kill -9 of the session is a kill -9 of everything the build started.
    const start = () => spawn("/bin/bash", ["-c", line], { cwd: repoRoot, stdio: "ignore", detached: true });
    const midBuild = async () => {
        const deadline = Date.now() + 300_000;
        for (;;) {
            // A chroot build: its disk mounted, the play running in it; a boot: QEMU up.
            const busy = chroot ? (await chrootLeftovers(target)).mounts.some((m) => m.endsWith("/proc")) : (await run("pgrep", ["-f", `qemu-system.*${path.basename(scratch)}`])).stdout.trim() !== "";
            if (busy) return;
            assert.ok(Date.now() < deadline, "the build got under way");
            await new Promise((r) => setTimeout(r, 1000));
        }
    };
    const noProcess = async () => assert.equal((await run("pgrep", ["-f", path.basename(scratch)])).stdout.trim(), "", "no process of the killed build is left");

    // A stop (SIGTERM, as pulumi's cancel): everything released at once.
    const child = start();
    await midBuild();
    child.kill("SIGTERM");
    assert.notEqual(await new Promise((r) => child.on("close", r)), 0);
    await new Promise((r) => setTimeout(r, 3000));
    await noProcess();
    assert.deepEqual(await chrootLeftovers(target), { mounts: [], loops: [] }, "no mount and no loop device after a stop");
    assert.ok(!fs.existsSync(target) && !fs.existsSync(`${target}.partial`), "nothing half-written");
    if (!chroot) return;

    // kill -9 of everything: nothing can clean up then (the negative control: the mounts and the
    // loop device are still there), so the retry must release them before it builds.
    const killed9 = start();
    await midBuild();
    const closed = new Promise((r) => killed9.on("close", r));
    process.kill(-killed9.pid!, "SIGKILL");
    await run("pkill", ["-KILL", "-s", String(killed9.pid)]);
    await closed;
    await new Promise((r) => setTimeout(r, 2000));
    const left = await chrootLeftovers(target);
    assert.ok(left.mounts.length > 0 && left.loops.length > 0, `a kill -9 leaves the mounts and the loop device: ${JSON.stringify(left)}`);
    const started = Date.now();
    const retry = await run("/bin/bash", ["-c", line], { cwd: repoRoot });
    timings[`retry of the ${killed} variant after a kill -9`] = (Date.now() - started) / 1000;
    assert.equal(retry.code, 0, retry.stderr.slice(-3000));
    assert.match(retry.stderr, /releasing what an earlier, stopped build|releasing what a stopped build/);
    assert.deepEqual(await chrootLeftovers(target), { mounts: [], loops: [] }, "the retry released what the kill -9 left, and its own");
    await noProcess();
});

test("timings", { skip }, () => {
    fs.writeFileSync(path.join(work, "timings.json"), JSON.stringify(timings, null, 2));
    for (const [what, seconds] of Object.entries(timings)) console.log(`# ${what}: ${seconds.toFixed(0)} s`);
});
