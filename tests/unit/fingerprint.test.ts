// Fingerprints follow exactly the inputs of each stage: edits in a copy of the recipe show
// which stages a change rebuilds.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, test } from "node:test";
import { fingerprint } from "../../components/fingerprint";
import { providerModule, providerNames } from "../../components/providers";
import { repoRoot } from "../../components/recipe/paths";
import { Recipe } from "../../components/recipe/recipe";
import { baseInputs } from "../../components/stages/base";
import { conversionInputs } from "../../components/stages/conversion";
import { variantInputs } from "../../components/stages/variant";
import { tempDir } from "../support/tools";

const root = tempDir("fingerprint");
for (const dir of ["templates", "http", "ansible", "scripts"]) fs.cpSync(path.join(repoRoot, dir), path.join(root, dir), { recursive: true });
after(() => fs.rmSync(root, { recursive: true, force: true }));

const OSES = ["CentOS-7.3.1611", "Rocky-9.8"];

/**
 * Every stage's fingerprint, keyed "<os> base", "<os> <provider>", "<os> <provider> convert",
 * from a fresh Recipe of the copy (each reads the files as they are now).
 */
function all(
    overrides: Record<string, unknown> = {},
    builders: Record<string, "variant" | "iso"> = {},
    modes: Record<string, "chroot" | "boot"> = {},
    settings: Record<string, Record<string, unknown>> = {},
): Map<string, string> {
    const out = new Map<string, string>();
    const recipe = new Recipe({ providers: providerNames(), root, siteOverrides: overrides });
    for (const id of OSES) {
        const os = recipe.os(id);
        const base = fingerprint(baseInputs(recipe, os), recipe);
        out.set(`${id} base`, base);
        for (const name of providerNames()) {
            const p = providerModule(name);
            const variant = fingerprint(variantInputs(recipe, os, p, builders[name] ?? "variant", modes[name] ?? "chroot", base), recipe);
            out.set(`${id} ${name}`, variant);
            out.set(`${id} ${name} convert`, fingerprint(conversionInputs(os, p, variant, settings[name] ?? {}), recipe));
        }
    }
    return out;
}

function changed(before: Map<string, string>, after: Map<string, string>): string[] {
    return [...before.keys()].filter((k) => before.get(k) !== after.get(k)).sort();
}

function edit(rel: string, append: string): void {
    fs.appendFileSync(path.join(root, rel), append);
}

test("fingerprints are stable and distinct", () => {
    const a = all();
    assert.deepEqual(changed(a, all()), []);
    assert.equal(new Set(a.values()).size, a.size);
});

test("a provider's variantMode is its variant's input; the chroot script is an input of chroot variants only", () => {
    const before = all();
    assert.deepEqual(changed(before, all({}, {}, { gcp: "boot" })), OSES.flatMap((os) => [`${os} gcp`, `${os} gcp convert`]).sort());
    const booted = all({}, {}, { gcp: "boot" });
    edit("scripts/chroot-variant.sh", "\n# edited by the fingerprint test\n");
    const others = providerNames().filter((n) => n !== "gcp");
    assert.deepEqual(changed(booted, all({}, {}, { gcp: "boot" })), OSES.flatMap((os) => others.flatMap((n) => [`${os} ${n}`, `${os} ${n} convert`])).sort());
});

test("editing the azure role changes only the azure variants and conversions", () => {
    const before = all();
    edit("ansible/roles/azure/tasks/main.yml", "\n# edited by the fingerprint test\n");
    assert.deepEqual(changed(before, all()), OSES.flatMap((os) => [`${os} azure`, `${os} azure convert`]).sort());
});

test("editing the EL7 kickstart template changes every stage of EL7 and nothing of EL8+", () => {
    const before = all();
    edit("http/templates/el7.ks.njk", "\n# edited by the fingerprint test\n");
    const expected = [...before.keys()].filter((k) => k.startsWith("CentOS-7.3.1611 ")).sort();
    assert.deepEqual(changed(before, all()), expected);
});

test("editing the conversion script changes every conversion and nothing before it", () => {
    const before = all();
    edit("scripts/convert.sh", "\n# edited by the fingerprint test\n");
    assert.deepEqual(changed(before, all()), [...before.keys()].filter((k) => k.endsWith(" convert")).sort());
});

test("editing the box's Vagrantfile changes only the virtualbox conversions", () => {
    const before = all();
    edit("templates/vagrant/Vagrantfile", "\n# edited by the fingerprint test\n");
    assert.deepEqual(changed(before, all()), OSES.map((os) => `${os} virtualbox convert`).sort());
});

test("the firmware an OVF or a box declares is its conversion's input: only those conversions change, of the OSes it changes", () => {
    const before = all();
    // Rocky's disk boots UEFI: the OVF's Secure Boot off changes its OVA; EL7's OVF stays BIOS.
    assert.deepEqual(changed(before, all({}, {}, {}, { vmware: { secureBoot: false } })), ["Rocky-9.8 vmware convert"]);
    // BIOS, the box's default, is written nowhere: boxes made before are not made again.
    assert.deepEqual(changed(before, all({}, {}, {}, { virtualbox: { firmware: "bios" } })), []);
});

test("an OS file's guest type changes that OS's stages only", () => {
    const before = all();
    const file = path.join(root, "templates/os/Rocky-9.8.pkrvars.hcl");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace('guest_os_type_vsphere = "rockylinux_64Guest"', 'guest_os_type_vsphere = "centos9_64Guest"'));
    assert.deepEqual(changed(before, all()), [...before.keys()].filter((k) => k.startsWith("Rocky-9.8 ")).sort());
});

test("the cleanup role and a site variable change everything; a run-only setting changes nothing", () => {
    const before = all();
    edit("ansible/roles/cleanup/tasks/main.yml", "\n# edited by the fingerprint test\n");
    const afterRole = all();
    assert.equal(changed(before, afterRole).length, before.size);
    assert.equal(changed(afterRole, all({ timezone: "Europe/Berlin" })).length, before.size);
    assert.deepEqual(changed(afterRole, all({ accelerator: "tcg", memory: 4096 })), []);
});

test("with the seed's ISO build, the provider's kickstart counts for that provider only", () => {
    const before = all({}, { aws: "iso" });
    const file = path.join(root, "http/builds/virtual/aws.yaml");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("nvme_core.io_timeout=4294967295", "nvme_core.io_timeout=255"));
    assert.deepEqual(changed(before, all({}, { aws: "iso" })), OSES.flatMap((os) => [`${os} aws`, `${os} aws convert`]).sort());
    // A comment renders to the same kickstart: nothing to rebuild.
    const again = all({}, { aws: "iso" });
    edit("http/builds/virtual/aws.yaml", "\n# a comment only\n");
    assert.deepEqual(changed(again, all({}, { aws: "iso" })), []);
});
