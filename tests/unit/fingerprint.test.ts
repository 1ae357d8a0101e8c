// Fingerprints follow exactly the inputs of each stage: edits in a copy of the recipe show
// which stages a change rebuilds.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, test } from "node:test";
import { fingerprint } from "../../components/fingerprint";
import { loadOs } from "../../components/recipe/os";
import { repoRoot } from "../../components/recipe/paths";
import { PROVIDER_NAMES } from "../../components/recipe/providers";
import { loadSite } from "../../components/recipe/site";
import { baseInputs, conversionInputs, variantInputs } from "../../components/stages/inputs";
import { tempDir } from "../support/tools";

const root = tempDir("fingerprint");
for (const dir of ["templates", "http", "ansible", "scripts"]) fs.cpSync(path.join(repoRoot, dir), path.join(root, dir), { recursive: true });
after(() => fs.rmSync(root, { recursive: true, force: true }));

const OSES = ["CentOS-7.3.1611", "Rocky-9.8"];

/** Every stage's fingerprint, keyed "<os> base", "<os> <provider>", "<os> <provider> convert". */
function all(overrides: Record<string, string> = {}, builders: Record<string, "variant" | "iso"> = {}): Map<string, string> {
    const out = new Map<string, string>();
    const site = loadSite({ root, overrides });
    for (const id of OSES) {
        const ctx = { os: loadOs(id, root), site, root };
        const base = fingerprint(baseInputs(ctx), root);
        out.set(`${id} base`, base);
        for (const p of PROVIDER_NAMES) {
            const variant = fingerprint(variantInputs(ctx, p, builders[p] ?? "variant", base), root);
            out.set(`${id} ${p}`, variant);
            out.set(`${id} ${p} convert`, fingerprint(conversionInputs(p, `${id}-1.0.0_${p}`, variant), root));
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

test("the cleanup role and a site variable change everything; a run-only setting changes nothing", () => {
    const before = all();
    edit("ansible/roles/cleanup/tasks/main.yml", "\n# edited by the fingerprint test\n");
    const afterRole = all();
    assert.equal(changed(before, afterRole).length, before.size);
    assert.equal(changed(afterRole, all({ timezone: "Europe/Berlin" })).length, before.size);
    assert.deepEqual(changed(afterRole, all({ accelerator: "tcg", memory: "4096" } as never)), []);
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
