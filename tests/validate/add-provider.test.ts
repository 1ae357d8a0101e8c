// Adding a provider is one place: in a scratch copy of the repository, a provider "fake" is
// added as its module (components/providers/fake/index.ts) and a minimal role
// (ansible/roles/fake/), and nothing else is edited. Then, in the copy: the program registers
// its stages and publisher and checks its config, the kickstart tests render its kickstart,
// and `npm run validate`'s Packer and Ansible checks check it (and fail when its role is broken).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { repoRoot } from "../../components/recipe/paths";
import { TEST_KEY } from "../support/kickstart-fixtures";
import { missingTool, run, tempDir } from "../support/tools";

const copy = path.join(tempDir("add-provider"), "repo");
after(() => fs.rmSync(path.dirname(copy), { recursive: true, force: true }));

const MODULE = `// A provider that exists only in this test: a qcow2 "published" as its sha256 in the store.
import * as pulumi from "@pulumi/pulumi";
import { text } from "../../recipe/fields";
import { defineProvider } from "../provider";
import { VmFirstBoot } from "../../firstboot/mechanism";

class FakeImage extends pulumi.ComponentResource {
    public readonly imageSha256: pulumi.Output<string>;
    constructor(name: string, sha256: pulumi.Input<string>) {
        super("gold:publish:FakeImage", name, {}, {});
        this.imageSha256 = pulumi.output(sha256);
        this.registerOutputs({ imageSha256: this.imageSha256 });
    }
}

export default defineProvider({
    name: "fake",
    title: "A fake cloud",
    fields: { zone: text(/^[a-z]+-[0-9]$/, "a zone such as north-1").optional() },
    requiredToPublish: ["zone"],
    isoBuilder: "qemu",
    format: "qcow2",
    // Its cloud gives the key to cloud-init's default user, without metadata; nothing to check.
    firstBoot: { kind: "vm", bus: "virtio", graceSec: 60, play: (g) => ({ user: g.defaultUser, login: "the fake cloud", setsHostname: false }), contract: [] } satisfies VmFirstBoot,
    outputs: ["imageSha256"],
    publish: (a) => ({ imageSha256: new FakeImage(a.name, a.stage.sha256).imageSha256 }),
});
`;

const ROLE: Record<string, string> = {
    "tasks/main.yml": '---\n- name: Load the OS family variables\n  ansible.builtin.include_vars: "{{ ansible_os_family }}.yml"\n\n- name: Mark the image\n  ansible.builtin.copy:\n    dest: /etc/gold-fake\n    content: "{{ fake_mark }}\\n"\n    owner: root\n    group: root\n    mode: "0644"\n',
    "meta/main.yml": "---\ngalaxy_info:\n  author: gold\n  description: A fake provider (tests only)\n  license: MIT\n  min_ansible_version: \"2.14\"\n  platforms:\n    - name: EL\n      versions: [all]\n    - name: Debian\n      versions: [bookworm]\ndependencies: []\n",
    "vars/RedHat.yml": "---\nfake_mark: el\n",
    "vars/Debian.yml": "---\nfake_mark: debian\n",
};

/** A copy of the repository (node_modules linked) with the fake provider's two places added. */
before(() => {
    fs.mkdirSync(copy, { recursive: true });
    for (const entry of fs.readdirSync(repoRoot)) {
        if (["artifacts", ".git", "node_modules", "keys"].includes(entry)) continue;
        fs.cpSync(path.join(repoRoot, entry), path.join(copy, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(copy, "node_modules"));
    fs.mkdirSync(path.join(copy, "components/providers/fake"));
    fs.writeFileSync(path.join(copy, "components/providers/fake/index.ts"), MODULE);
    for (const [file, text] of Object.entries(ROLE)) {
        fs.mkdirSync(path.dirname(path.join(copy, "ansible/roles/fake", file)), { recursive: true });
        fs.writeFileSync(path.join(copy, "ansible/roles/fake", file), text);
    }
    fs.writeFileSync(path.join(copy, "test-key.pub"), TEST_KEY + "\n");
});

/** The environment of a run in the copy: not a child of this test runner (a nested --test
 * that inherits NODE_TEST_CONTEXT reports to its parent instead of printing TAP). */
function copyEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", ...extra };
    delete env.NODE_TEST_CONTEXT;
    return env;
}

const tsNode = (args: string[], extra: Record<string, string> = {}) => run(process.execPath, ["--require", "ts-node/register", ...args], { cwd: copy, env: copyEnv(extra) });

async function program(config: Record<string, unknown>) {
    const r = await tsNode(["tests/support/print-program.ts"], { GOLD_TEST_CONFIG: JSON.stringify(config) });
    const line = r.stdout.trim().split("\n").pop() ?? "";
    assert.ok(line.startsWith("{"), `no report (exit ${r.code}):\n${r.stderr.slice(-2000)}`);
    return JSON.parse(line);
}

test("the program registers the new provider's stages and publisher, and checks its config", async () => {
    const ok = await program({ oses: ["Rocky-9.8"], providers: ["fake", "gcp"], publish: true, fake: { zone: "north-1" }, gcp: { project: "gold-images-1", bucket: "b-images" } });
    assert.ok(ok.ok, ok.error);
    const names = ok.registered.map((r: { type: string; name: string }) => `${r.type} ${r.name}`);
    for (const expected of ["gold:stage:Variant Rocky-9.8-fake", "gold:stage:Conversion Rocky-9.8-fake-convert", "gold:test:FirstBoot Rocky-9.8-fake-test", "gold:publish:FakeImage Rocky-9.8-fake-publish", "command:local:Command Rocky-9.8-fake-run", "command:local:Command Rocky-9.8-fake-convert-run", "command:local:Command Rocky-9.8-fake-test-run"]) {
        assert.ok(names.includes(expected), `${expected} is registered`);
    }
    // It publishes what its first-boot test passed (the mocked test stage's sha256 is that of its name).
    assert.equal(ok.images["Rocky-9.8"].fake.imageSha256, createHash("sha256").update("Rocky-9.8-fake-test-run").digest("hex"));

    const missing = await program({ oses: ["Rocky-9.8"], providers: ["fake"], publish: true });
    assert.equal(missing.ok, false);
    assert.match(missing.error, /config fake\.zone is required when publish is true/);
    const bad = await program({ oses: ["Rocky-9.8"], providers: ["fake"], fake: { zone: "Mars" } });
    assert.match(bad.error, /config fake\.zone: "Mars" is not valid; it must be a zone such as north-1/);
    const unknown = await program({ oses: ["Rocky-9.8"], providers: ["fakes"] });
    assert.match(unknown.error, /config providers: 'fakes' is not valid; valid choices: .*\bfake\b/);
});

test("the kickstart tests render its kickstart (virtual/fake) for every OS", async () => {
    const r = await tsNode(["--test", "tests/unit/kickstart.test.ts"]);
    assert.equal(r.code, 0, r.stdout.slice(-3000));
    assert.match(r.stdout, /^# pass [1-9]/m);
    assert.match(r.stdout, /^# fail 0$/m);
    // The kickstart tests enumerate the builds; this one renders with the virtual defaults.
    const list = await tsNode(["scripts/ks.ts", "--list"]);
    assert.match(list.stdout, /^builds: .*\bvirtual\/fake\b/m);
    const ks = await tsNode(["scripts/ks.ts", "--build", "virtual/fake", "--os", "Rocky-9.8", "--ssh-key", path.join(copy, "test-key.pub")]);
    assert.equal(ks.code, 0, ks.stderr);
    assert.match(ks.stdout, /^# build: virtual\/fake/m);
});

const noTools = missingTool("packer") ?? missingTool("ansible-playbook") ?? missingTool("ansible-lint");

test("npm run validate's Packer and Ansible checks check it, and fail on a broken role", { skip: noTools, timeout: 15 * 60_000 }, async () => {
    const validate = (files: string[], pattern: string) => tsNode(["--test", "--test-name-pattern", pattern, ...files], { GOLD_VALIDATE_OSES: "Rocky-9.8,Debian-12" });
    const packer = await validate(["tests/validate/packer.test.ts"], "packer validate: every OS");
    assert.equal(packer.code, 0, packer.stdout.slice(-3000));
    assert.match(packer.stdout, /providers: .*\bfake\b/);
    const ansible = await validate(["tests/validate/ansible.test.ts"], "ansible-lint|every provider has a role|accepts every valid build");
    assert.equal(ansible.code, 0, ansible.stdout.slice(-3000));
    assert.match(ansible.stdout, /# pass 3/);

    fs.rmSync(path.join(copy, "ansible/roles/fake/vars/Debian.yml"));
    const broken = await validate(["tests/validate/ansible.test.ts"], "every provider has a role");
    assert.notEqual(broken.code, 0);
    assert.match(broken.stdout, /missing ansible\/roles\/fake\/vars\/Debian\.yml/);
});
