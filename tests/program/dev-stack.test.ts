// The dev stack (Pulumi.dev.yaml) under mocks: build and convert only, nothing published.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { repoRoot } from "../../components/recipe/paths";
import { byType, installMocks, registered, settled, valueOf } from "../support/program";

const dev = parse(fs.readFileSync(path.join(repoRoot, "Pulumi.dev.yaml"), "utf8")).config;
installMocks("dev", dev);
// eslint-disable-next-line @typescript-eslint/no-var-requires
const program = require("../../index");

test("dev stack: one base, a variant and a conversion per provider, no cloud resource", async () => {
    await valueOf(program.images);
    await settled();
    const oses: string[] = dev["gold-images:oses"];
    const providers: string[] = dev["gold-images:providers"];
    assert.equal(byType("gold:stage:Base").length, oses.length);
    assert.equal(byType("gold:stage:Variant").length, oses.length * providers.length);
    assert.equal(byType("gold:stage:Conversion").length, oses.length * providers.length);
    assert.equal(byType("gold:test:FirstBoot").length, oses.length * providers.length);
    assert.equal(byType("command:local:Command").length, oses.length * (1 + 3 * providers.length));
    const clouds = registered.filter((r) => /^(aws|azure-native|gcp|openstack|docker):/.test(r.type) || r.type.startsWith("gold:publish:"));
    assert.deepEqual(clouds.map((r) => r.type), []);
});

test("dev stack outputs: version and, per OS and provider, only the artifact fields", async () => {
    assert.equal(await valueOf(program.version), dev["gold-images:version"]);
    const images = await valueOf<Record<string, Record<string, Record<string, unknown>>>>(program.images);
    for (const os of dev["gold-images:oses"]) {
        assert.deepEqual(Object.keys(images[os]).sort(), [...dev["gold-images:providers"]].sort());
        for (const fields of Object.values(images[os])) {
            assert.deepEqual(Object.keys(fields).sort(), ["artifact", "firstBoot", "sha256"]);
            assert.match(String(fields.sha256), /^[0-9a-f]{64}$/);
        }
    }
});

test("stage commands: fingerprint triggers, own directory deleted, Packer run by the wrapper", async () => {
    const commands = byType("command:local:Command");
    for (const c of commands) {
        const [fp, inputs] = c.inputs.triggers;
        assert.match(fp, /^[0-9a-f]{64}$/, `${c.name} is triggered by its fingerprint`);
        assert.ok(Object.keys(inputs).length > 0, `${c.name} lists its inputs for preview --diff`);
        const dir = /artifacts\/[^ ]+\/[0-9a-f]{12}/.exec(c.inputs.delete)?.[0];
        assert.ok(dir && dir.endsWith(fp.slice(0, 12)), `${c.name} deletes its own directory: ${c.inputs.delete}`);
        assert.ok(c.inputs.create.includes(dir), `${c.name} builds into ${dir}`);
        assert.match(c.inputs.update, /PULUMI_COMMAND_STDOUT/);
        assert.ok(c.customTimeouts?.create, `${c.name} has a create timeout`);
    }
    const packer = commands.filter((c) => !c.name.endsWith("-convert-run") && !c.name.endsWith("-test-run"));
    for (const c of commands.filter((c) => c.name.endsWith("-test-run"))) assert.match(c.inputs.create, / scripts\/with-slot\.sh node_modules\/\.bin\/ts-node --transpile-only scripts\/first-boot\.ts --provider \S+ --image \S+ --sha256 [0-9a-f]{64} /);
    for (const c of packer) assert.match(c.inputs.create, /scripts\/packer-build\.sh /, c.name);
    for (const c of commands.filter((c) => c.name.endsWith("-convert-run"))) assert.match(c.inputs.create, / scripts\/convert\.sh /);
    // One version, one stack: every stage claims artifacts/<version>/ first; a delete checks it.
    for (const c of commands) {
        assert.ok(c.inputs.create.startsWith(`scripts/claim-version.sh artifacts/${dev["gold-images:version"]} dev && `), c.name);
        assert.match(c.inputs.delete, /^if scripts\/claim-version\.sh --check artifacts\/\S+ dev; then rm -rf /);
    }
});
