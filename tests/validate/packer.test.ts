// Packer 1.6.6 (Debian's) checks every OS variables file with every source of the templates.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { listOses, loadOs, osFile } from "../../components/recipe/os";
import { recipePaths } from "../../components/recipe/paths";
import { providerModule, providerNames } from "../../components/providers";
import { missingTool, pool, run, tempDir } from "../support/tools";

const paths = recipePaths();
const skip = missingTool("packer") ?? missingTool("qemu-img");
let fixtures: { dir: string; key: string; disk: string; site: string };

before(() => {
    if (skip) return;
    const dir = tempDir("packer");
    const key = path.join(dir, "build-key");
    assert.equal(spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]).status, 0);
    const disk = path.join(dir, "source.qcow2");
    assert.equal(spawnSync("qemu-img", ["create", "-q", "-f", "qcow2", disk, "64M"]).status, 0);
    // Packer reads var files by suffix: the example is checked under a .pkrvars.hcl name.
    const site = path.join(dir, "site.pkrvars.hcl");
    fs.copyFileSync(paths.siteExample, site);
    fixtures = { dir, key, disk, site };
});

after(() => fixtures && fs.rmSync(fixtures.dir, { recursive: true, force: true }));

function validate(osId: string, extra: string[]) {
    return run(
        "packer",
        [
            "validate",
            `-var-file=${fixtures.site}`,
            `-var-file=${osFile(osId)}`,
            `-var=ssh_private_key_file=${fixtures.key}`,
            `-var=source_disk=${fixtures.disk}`,
            ...extra,
            "templates",
        ],
        { cwd: paths.root },
    );
}

test("packer fmt -check: templates, plugins and OS files are canonical", { skip }, async () => {
    for (const dir of ["templates", "templates/plugins", "templates/os"]) {
        const r = await run("packer", ["fmt", "-check", dir], { cwd: paths.root });
        assert.equal(r.code, 0, `packer fmt -check ${dir}: ${r.stdout}${r.stderr}`);
    }
});

test("every OS file is read the same by Packer and by the TypeScript reader", () => {
    const oses = listOses();
    assert.ok(oses.length >= 7, `expected the seven OSes, found ${oses.join(", ")}`);
    for (const id of oses) assert.equal(loadOs(id).vm_name, id);
});

// GOLD_VALIDATE_OSES=Rocky-9.8,… limits the OSes (the add-provider test runs this in a copy).
const validateOses = process.env.GOLD_VALIDATE_OSES?.split(",") ?? listOses();

test("packer validate: every OS with every source and every provider's variant", { skip }, async (t) => {
    const jobs: { os: string; args: string[] }[] = [];
    t.diagnostic(`providers: ${providerNames().join(", ")}; OSes: ${validateOses.join(", ")}`);
    for (const os of validateOses) {
        for (const only of ["qemu.base", "qemu.base-disk"]) jobs.push({ os, args: [`-only=${only}`] });
        for (const p of providerNames()) {
            // The seed's full ISO build with the builder the provider's module names, and the variant
            // in each mode (booted, in a chroot).
            jobs.push({ os, args: [`-only=${providerModule(p).isoBuilder}.iso`, `-var=build_name=${p}`] });
            for (const only of ["qemu.variant", "null.variant"]) jobs.push({ os, args: [`-only=${only}`, `-var=build_name=${p}`] });
        }
    }
    const results = await pool(jobs, 4, async (j) => ({ j, r: await validate(j.os, j.args) }));
    const failed = results.filter(({ r }) => r.code !== 0).map(({ j, r }) => `${j.os} ${j.args.join(" ")}:\n${r.stderr}${r.stdout}`);
    assert.deepEqual(failed, []);
});

test("packer validate rejects a bad checksum, build name and accelerator", { skip }, async () => {
    const os = listOses()[0];
    const cases: [string[], RegExp][] = [
        [["-var=iso_checksum=md5:abc"], /iso_checksum must be the literal sha256/],
        [["-only=qemu.variant", "-var=build_name=../roles"], /build_name must be base or a provider's name/],
        [["-only=null.variant", "-var=build_name=../roles"], /build_name must be base or a provider's name/],
        [["-var=accelerator=fast"], /accelerator must be one of kvm, tcg/],
    ];
    for (const [args, message] of cases) {
        const r = await validate(os, args);
        assert.notEqual(r.code, 0, args.join(" "));
        assert.match((r.stdout + r.stderr).replace(/\s+/g, " "), message);
    }
});

test("Packer's HTTP server and QEMU's SSH forward listen on loopback only; the guest's network is restricted, with the build proxy and the HTTP server forwarded in", { skip: skip ?? missingTool("ss") ?? missingTool("qemu-system-x86_64"), timeout: 180_000 }, async () => {
    // A blank "ISO": nothing boots, but Packer serves the kickstart and QEMU forwards SSH.
    const iso = path.join(fixtures.dir, "blank.iso");
    fs.writeFileSync(iso, Buffer.alloc(1024 * 1024));
    const sum = createHash("sha256").update(fs.readFileSync(iso)).digest("hex");
    const http = path.join(fixtures.dir, "http");
    fs.mkdirSync(http, { recursive: true });
    fs.writeFileSync(path.join(http, "ks.cfg"), "# nothing\n");
    const out = path.join(fixtures.dir, "out");
    const packer = spawn(
        "packer",
        [
            "build", "-only=qemu.base", `-var-file=${osFile("Rocky-9.8")}`, `-var=ssh_private_key_file=${fixtures.key}`,
            `-var=iso_url=file://${iso}`, `-var=iso_checksum=sha256:${sum}`, `-var=http_directory=${http}`, `-var=output_dir=${out}`,
            "-var=accelerator=tcg", "-var=memory=256", "-var=cpus=1", "-var=disk_size=2048", "-var=boot_wait=1s", "-var=ssh_timeout=10m",
            "-var=build_proxy_port=54321", "templates",
        ],
        { cwd: paths.root, stdio: "ignore", detached: true, env: { ...process.env, PACKER_CACHE_DIR: path.join(fixtures.dir, "cache") } },
    );
    try {
        // Every TCP listener of Packer and of the QEMU it started, once both listen.
        let listeners: string[] = [];
        const deadline = Date.now() + 120_000;
        while (Date.now() < deadline) {
            const ss = (await run("ss", ["-ltnpH"])).stdout.split("\n");
            const ours = new RegExp(`pid=(${await descendants(packer.pid!)}),`);
            listeners = ss.filter((l) => ours.test(l));
            if (listeners.some((l) => l.includes("qemu")) && listeners.some((l) => l.includes("packer"))) break;
            await new Promise((r) => setTimeout(r, 1000));
        }
        assert.ok(listeners.some((l) => l.includes("qemu")), `QEMU listens:\n${listeners.join("\n")}`);
        assert.ok(listeners.some((l) => l.includes("packer")), `Packer's HTTP server listens:\n${listeners.join("\n")}`);
        for (const l of listeners) assert.match(l.split(/\s+/)[3], /^127\.0\.0\.1:\d+$/, `listening beyond loopback: ${l}`);
        // QEMU as Packer started it (templates/locals.pkr.hcl): restricted, and the two ways in
        // relay to this machine's loopback: the proxy's port, and the port Packer's HTTP server got.
        const httpPort = listeners.find((l) => l.includes("packer"))!.split(/\s+/)[3].split(":")[1];
        const qemuPid = /pid=(\d+)/.exec(listeners.find((l) => l.includes("qemu"))!)![1];
        const argv = fs.readFileSync(`/proc/${qemuPid}/cmdline`, "utf8").split("\0");
        const netdev = argv[argv.indexOf("-netdev") + 1];
        assert.match(netdev, /^user,id=user\.0,restrict=on,hostfwd=tcp:127\.0\.0\.1:\d+-:22,/, netdev);
        assert.ok(netdev.includes(`guestfwd=tcp:10.0.2.100:3128-cmd:bash -c 'exec 3<>/dev/tcp/127.0.0.1/54321;`), netdev);
        assert.ok(netdev.includes(`guestfwd=tcp:10.0.2.101:${httpPort}-cmd:bash -c 'exec 3<>/dev/tcp/127.0.0.1/${httpPort};`), netdev);
        assert.equal(argv.filter((a) => a === "-netdev").length, 1, "one network, ours");
    } finally {
        try {
            process.kill(-packer.pid!, "SIGKILL");
        } catch {
            /* gone */
        }
        await run("pkill", ["-KILL", "-f", fixtures.dir]);
    }
});

/** The pids under a process, joined by "|" for a regular expression. */
async function descendants(pid: number): Promise<string> {
    const all = (await run("ps", ["-eo", "pid=,ppid="])).stdout.trim().split("\n").map((l) => l.trim().split(/\s+/).map(Number));
    const found = new Set([pid]);
    for (let grew = true; grew; ) {
        grew = false;
        for (const [p, pp] of all) if (found.has(pp) && !found.has(p)) (found.add(p), (grew = true));
    }
    return [...found].join("|");
}
