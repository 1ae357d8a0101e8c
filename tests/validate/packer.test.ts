// Packer 1.6.6 (Debian's) checks every OS variables file with every source of the templates.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
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
            // The seed's full ISO build with the builder the provider's module names, and the variant.
            jobs.push({ os, args: [`-only=${providerModule(p).isoBuilder}.iso`, `-var=build_name=${p}`] });
            jobs.push({ os, args: ["-only=qemu.variant", `-var=build_name=${p}`] });
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
        [["-var=accelerator=fast"], /accelerator must be one of kvm, tcg/],
    ];
    for (const [args, message] of cases) {
        const r = await validate(os, args);
        assert.notEqual(r.code, 0, args.join(" "));
        assert.match((r.stdout + r.stderr).replace(/\s+/g, " "), message);
    }
});
