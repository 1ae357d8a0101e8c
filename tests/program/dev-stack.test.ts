// The dev stack (Pulumi.dev.yaml) under mocks: build and convert only, nothing published.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { BOOT_NAMES } from "../../components/firstboot/mechanism";
import { providerModule } from "../../components/providers";
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
    // Every stage's command, and the stack's references in the artifact store.
    assert.equal(byType("command:local:Command").length, oses.length * (1 + 3 * providers.length) + 1);
    assert.equal(byType("gold:store:References").length, 1);
    const clouds = registered.filter((r) => /^(aws|azure-native|gcp|openstack|docker):/.test(r.type) || r.type.startsWith("gold:publish:"));
    assert.deepEqual(clouds.map((r) => r.type), []);
});

test("dev stack outputs: version and, per OS and provider, only the artifact fields", async () => {
    assert.equal(await valueOf(program.version), dev["gold-images:version"]);
    const images = await valueOf<Record<string, Record<string, Record<string, unknown>>>>(program.images);
    for (const os of dev["gold-images:oses"]) {
        assert.deepEqual(Object.keys(images[os]).sort(), [...dev["gold-images:providers"]].sort());
        for (const [provider, fields] of Object.entries(images[os])) {
            // A machine image says how its cloud boots it; a container has no boot.
            const machine = providerModule(provider).firstBoot.kind === "vm";
            assert.deepEqual(Object.keys(fields).sort(), ["artifact", ...(machine ? ["boot"] : []), "firstBoot", "sha256"]);
            if (machine) assert.ok((BOOT_NAMES as readonly string[]).includes(String(fields.boot)), `${os}.${provider}: ${fields.boot}`);
            assert.match(String(fields.sha256), /^[0-9a-f]{64}$/);
        }
    }
});

test("stage commands: fingerprint triggers, own directory deleted, Packer run by the wrapper", async () => {
    const commands = byType("command:local:Command").filter((c) => c.name.endsWith("-run"));
    for (const c of commands) {
        const [fp, inputs] = c.inputs.triggers;
        assert.match(fp, /^[0-9a-f]{64}$/, `${c.name} is triggered by its fingerprint`);
        assert.ok(Object.keys(inputs).length > 0, `${c.name} lists its inputs for preview --diff`);
        const dir = /artifacts\/[^ ]+\/[0-9a-f]{12}/.exec(c.inputs.delete)?.[0];
        assert.ok(dir && dir.endsWith(fp.slice(0, 12)), `${c.name} deletes its own directory: ${c.inputs.delete}`);
        assert.ok(c.inputs.create.includes(dir), `${c.name} builds into ${dir}`);
        // Found in the store by its fingerprint, or built and stored; an update prints it again for this store.
        assert.ok(c.inputs.create.includes(` scripts/store.ts run --store artifacts/store --fingerprint ${fp} `), c.name);
        assert.ok(c.inputs.update.includes(`scripts/store.ts update --store artifacts/store --fingerprint ${fp} `), c.name);
        assert.ok(c.customTimeouts?.create, `${c.name} has a create timeout`);
        // What `pulumi up` shows on its row while it runs: its stderr (start, progress, end), not the JSON.
        assert.equal(c.inputs.logging, "stderr", c.name);
        // Its start line names its OS and provider, given as data (not parsed out of its name).
        const [, os, provider] = /^(.+?)-(?:base|([a-z]+))(?:-convert|-test)?-run$/.exec(c.name)!;
        assert.ok(c.inputs.create.includes(` --os ${os}${provider ? ` --provider ${provider}` : ""} `), `${c.name}: ${c.inputs.create}`);
        const log = /--log (\S+) /.exec(c.inputs.create)?.[1];
        if (c.name.endsWith("-convert-run")) assert.equal(log, undefined, `${c.name}: its output is its log`);
        else assert.equal(log, c.name.endsWith("-test-run") ? `${dir}.partial/serial.log` : `${dir}.build.log`, c.name);
    }
    const packer = commands.filter((c) => !c.name.endsWith("-convert-run") && !c.name.endsWith("-test-run"));
    // A stage reads its input from the store, by the fingerprint of the stage before it: no
    // command line holds a path of an earlier run (another machine has none).
    const fpOf = (name: string) => commands.find((c) => c.name === name)!.inputs.triggers[0];
    for (const c of commands) {
        const upstream = c.name.endsWith("-test-run") ? c.name.replace(/-test-run$/, "-convert-run") : c.name.endsWith("-convert-run") ? c.name.replace(/-convert-run$/, "-run") : c.name.endsWith("-base-run") ? undefined : c.name.replace(/-[a-z]+-run$/, "-base-run");
        if (upstream) assert.ok(c.inputs.create.includes(` --input ${fpOf(upstream)} `), `${c.name} reads ${upstream}`);
        else assert.ok(!c.inputs.create.includes(" --input "), c.name);
        assert.ok(!/\/blobs\/|artifacts\/store\//.test(c.inputs.create), `${c.name}: no stored path in its command`);
    }
    for (const c of commands.filter((c) => c.name.endsWith("-test-run"))) assert.match(c.inputs.create, /'scripts\/with-slot\.sh node_modules\/\.bin\/ts-node --transpile-only scripts\/first-boot\.ts --provider \S+ --image "\$GOLD_INPUT" --sha256 "\$GOLD_INPUT_SHA256" /);
    for (const c of packer) assert.match(c.inputs.create, /scripts\/packer-build\.sh /, c.name);
    for (const c of commands.filter((c) => c.name.endsWith("-convert-run"))) assert.match(c.inputs.create, /'scripts\/convert\.sh \S+ "\$GOLD_INPUT" /);
    // One version, one stack: every stage claims artifacts/<version>/ first; a delete checks it.
    for (const c of commands) {
        assert.ok(c.inputs.create.startsWith(`scripts/claim-version.sh artifacts/${dev["gold-images:version"]} dev && `), c.name);
        assert.match(c.inputs.delete, /^if scripts\/claim-version\.sh --check artifacts\/\S+ dev; then rm -rf /);
    }
});

test("the stack's references: every stage fingerprint, written to the store and removed with the stack", () => {
    const refs = byType("command:local:Command").find((c) => c.name === "store-references-write")!;
    const stages = byType("command:local:Command").filter((c) => c.name.endsWith("-run")).map((c) => c.inputs.triggers[0]).sort();
    const listed = /--fingerprints ([0-9a-f,]+)/.exec(refs.inputs.create)![1].split(",");
    assert.deepEqual(listed, [...new Set(stages)].sort());
    assert.match(refs.inputs.create, /scripts\/store\.ts ref --store artifacts\/store --stack gold-images\.dev /);
    assert.match(refs.inputs.delete, /scripts\/store\.ts unref --store artifacts\/store --key refs\/gold-images\.dev\/[0-9a-f]{16}\.json$/);
});
