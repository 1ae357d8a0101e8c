// The seed's full ISO build per provider (`<provider>.builder: iso`) under mocks: one Packer
// source per builder type fed by build_name, the kickstart rendered with the stack's own site
// overrides, and a conversion that reads what that builder makes (a VMDK for VirtualBox and VMware).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { repoRoot } from "../../components/recipe/paths";
import { byType, installMocks, settled, valueOf } from "../support/program";
import { TEST_KEY } from "../support/kickstart-fixtures";
import { tempDir } from "../support/tools";

installMocks("1.4.0", {
    oses: ["RedHat-9.6"],
    providers: ["aws", "vmware", "gcp", "openstack"],
    site: { timezone: "Europe/Berlin", repo_server: "http://mirror.example.com/repos" },
    aws: { builder: "iso" },
    vmware: { builder: "iso" },
    gcp: { builder: "iso" },
});
// eslint-disable-next-line @typescript-eslint/no-var-requires
const program = require("../../index");

/** The build a stage command runs when its stage is not in the store (its --command, unquoted). */
const command = (name: string) => {
    const found = byType("command:local:Command").find((c) => c.name === name);
    assert.ok(found, name);
    const quoted = / --command '((?:[^']|'\\'')*)'$/.exec(found.inputs.create as string);
    assert.ok(quoted, found.inputs.create);
    return quoted[1].replace(/'\\''/g, "'");
};

test("each ISO build is its provider's builder's one source, fed by build_name", async () => {
    await valueOf(program.images);
    await settled();
    assert.match(command("RedHat-9.6-aws-run"), / -only=virtualbox-iso\.iso .*-var=build_name=aws /);
    assert.match(command("RedHat-9.6-vmware-run"), / -only=vmware-iso\.iso .*-var=build_name=vmware /);
    assert.match(command("RedHat-9.6-gcp-run"), / -only=qemu\.iso .*-var=build_name=gcp /);
    // openstack builds from the base, which the others do not need but it does.
    assert.match(command("RedHat-9.6-openstack-run"), / -only=null\.variant .*-var=build_name=openstack /);
    assert.ok(byType("command:local:Command").some((c) => c.name === "RedHat-9.6-base-run"));
});

test("the conversion reads the disk the builder made, in the format the build reported (a VMDK from VirtualBox and VMware)", () => {
    // The format is the build's own report (scripts/packer-build.sh), kept in its manifest: the
    // store gives it to the conversion with the disk.
    assert.match(command("RedHat-9.6-aws-convert-run"), /^scripts\/convert\.sh vhd "\$GOLD_INPUT" \S+ RedHat-9\.6_aws --input-format "\$GOLD_INPUT_FORMAT" /);
    assert.match(command("RedHat-9.6-vmware-convert-run"), /^scripts\/convert\.sh ova "\$GOLD_INPUT" \S+ RedHat-9\.6_vmware --input-format "\$GOLD_INPUT_FORMAT" /);
    assert.match(command("RedHat-9.6-gcp-convert-run"), /^scripts\/convert\.sh raw-tar "\$GOLD_INPUT" \S+ RedHat-9\.6_gcp --input-format "\$GOLD_INPUT_FORMAT" /);
    const fp = (name: string) => byType("command:local:Command").find((c) => c.name === name)!.inputs.triggers[0];
    for (const p of ["aws", "vmware", "gcp"]) {
        assert.ok(byType("command:local:Command").find((c) => c.name === `RedHat-9.6-${p}-convert-run`)!.inputs.create.includes(` --input ${fp(`RedHat-9.6-${p}-run`)} `), p);
    }
});

test("the ISO build's kickstart is rendered with the stack's site overrides: the one the stage was fingerprinted with", () => {
    const create = command("RedHat-9.6-gcp-run");
    const ks = /node_modules\/\.bin\/ts-node --transpile-only scripts\/ks\.ts (.*?) && /.exec(create);
    assert.ok(ks, create);
    // Run that very command line (with a test key instead of this machine's build key).
    const out = tempDir("iso-ks");
    const words = ks[1].replace(/--out \S+/, `--out ${out}`);
    fs.writeFileSync(path.join(out, "key.pub"), TEST_KEY + "\n");
    const r = spawnSync("/bin/bash", ["-c", `node_modules/.bin/ts-node --transpile-only scripts/ks.ts ${words} --ssh-key ${path.join(out, "key.pub")}`], { cwd: repoRoot, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const text = fs.readFileSync(path.join(out, "ks.cfg"), "utf8");
    assert.match(text, /^timezone Europe\/Berlin/m);
    assert.match(text, /http:\/\/mirror\.example\.com\/repos/);
    fs.rmSync(out, { recursive: true });
});
