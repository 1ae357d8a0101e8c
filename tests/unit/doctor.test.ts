// The doctor's checks, each shown passing and failing: tools found or missing on PATH (fakes
// where the machine cannot be changed), the version rules, the store, and a stage that stops
// before it builds when a tool it needs is missing (and does not look when it is stored).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, test } from "node:test";
import { diagnose, formatReport, requireTools, toolIds } from "../../components/doctor";
import { storeReport } from "../../components/doctor/store";
import { openStore } from "../../components/store";
import { LocalStore } from "../../components/store/object-store";
import { runStage } from "../../components/store/run-stage";
import { missingTool, tempDir } from "../support/tools";

const work = tempDir("doctor");
after(() => fs.rmSync(work, { recursive: true, force: true }));

/** Runs `body` with PATH = a folder of fake tools (name → shell body) before `rest`. */
async function withPath<T>(fakes: Record<string, string>, rest: string, body: () => Promise<T>): Promise<T> {
    const dir = fs.mkdtempSync(path.join(work, "bin-"));
    for (const [name, script] of Object.entries(fakes)) fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
    const saved = process.env.PATH;
    process.env.PATH = [dir, rest].filter(Boolean).join(":");
    try {
        return await body();
    } finally {
        process.env.PATH = saved;
    }
}

const byId = async (ids: Parameters<typeof diagnose>[0]) => Object.fromEntries((await diagnose(ids)).map((r) => [r.id, r]));

test("a tool not on PATH is MISSING with its fix; an optional one is a warning", async () => {
    const r = await withPath({}, "", () => byId(["packer", "qemu", "ansible", "genisoimage", "guestfish", "podman", "ssh-keygen"]));
    for (const id of ["packer", "qemu", "ansible", "genisoimage", "guestfish", "ssh-keygen"]) {
        assert.equal(r[id].ok, false, id);
        assert.match(r[id].fix ?? "", /apt-get install/, id);
        assert.match(formatReport(r[id]), /^MISSING .*\n\s+fix: /, id);
    }
    assert.equal(r.podman.ok, false);
    assert.match(formatReport(r.podman), /^warn /);
});

test("control: the tools this machine has are found with their versions", { skip: missingTool("packer") ?? missingTool("qemu-system-x86_64") }, async () => {
    const r = await byId(["packer", "qemu", "qemu-img"]);
    assert.match(r.packer.version ?? "", /^Packer v1\.\d+/);
    assert.match(r.qemu.version ?? "", /^QEMU emulator version \d/);
    for (const x of Object.values(r)) assert.equal(x.ok, true, formatReport(x));
});

test("Packer 1.7+ needs the plugins of templates/plugins/: missing ones are named with packer init", async () => {
    const some = `case "$1" in version) echo 'Packer v1.11.2';; plugins) echo 'github.com/hashicorp/qemu_v1.1.0'; echo 'github.com/hashicorp/ansible_v1.1.1';; esac`;
    const r = await withPath({ packer: some }, "/usr/bin:/bin", () => byId(["packer"]));
    assert.equal(r.packer.ok, false);
    assert.match(r.packer.detail ?? "", /plugins not installed: virtualbox, vmware, vagrant .*packer init templates\/plugins\//);
    const all = `case "$1" in version) echo 'Packer v1.11.2';; plugins) for p in qemu virtualbox vmware ansible vagrant; do echo "github.com/hashicorp/$p"; done;; esac`;
    const ok = await withPath({ packer: all }, "/usr/bin:/bin", () => byId(["packer"]));
    assert.equal(ok.packer.ok, true, formatReport(ok.packer));
});

test("EL7 targets need ansible-core 2.16 or older (Python 2.7)", async () => {
    const v = (core: string) => `echo 'ansible-playbook [core ${core}]'`;
    const old = await withPath({ "ansible-playbook": v("2.16.3") }, "/usr/bin:/bin", () => byId(["ansible-python27"]));
    assert.equal(old["ansible-python27"].ok, true);
    const newer = await withPath({ "ansible-playbook": v("2.17.0") }, "/usr/bin:/bin", () => byId(["ansible-python27"]));
    assert.equal(newer["ansible-python27"].ok, false);
    assert.match(newer["ansible-python27"].detail ?? "", /Python 2\.7/);
});

test("KVM: found usable, or missing with the tcg advice", async () => {
    const { kvm } = await byId(["kvm"]);
    if (fs.existsSync("/dev/kvm")) return assert.ok(kvm.ok || /cannot open/.test(kvm.detail ?? ""), formatReport(kvm));
    assert.equal(kvm.ok, false);
    assert.match(kvm.fix ?? "", /site\.accelerator: tcg .*10x slower/);
});

test("chroot variants: root, loop devices and Ansible's chroot connection found; a missing connection (ansible-doc's warning, exit 0) or no root is refused with variantMode: boot", async () => {
    const page = `echo '> COMMUNITY.GENERAL.CHROOT    (/usr/lib/python3/dist-packages/.../chroot.py)'`;
    const missing = `echo '[WARNING]: community.general.chroot was not found' >&2; exit 0`;
    const root = process.getuid?.() === 0;
    const found = await withPath({ "ansible-doc": page }, "/usr/sbin:/usr/bin:/sbin:/bin", () => byId(["chroot"]));
    const absent = await withPath({ "ansible-doc": missing }, "/usr/sbin:/usr/bin:/sbin:/bin", () => byId(["chroot"]));
    assert.equal(absent.chroot.ok, false);
    assert.match(formatReport(absent.chroot), /variantMode: boot/);
    if (!root) return assert.match(found.chroot.detail ?? "", /not root/);
    assert.equal(found.chroot.ok, fs.existsSync("/dev/loop-control"), formatReport(found.chroot));
    assert.match(absent.chroot.detail ?? "", /community\.general\.chroot connection not found/);
});

test("toolIds refuses an unknown tool with the valid ones", () => {
    assert.deepEqual(toolIds("packer,qemu"), ["packer", "qemu"]);
    assert.throws(() => toolIds("packer,pakcer"), /--needs 'pakcer' is not a tool the doctor knows; valid choices: packer, /);
});

test("the store: a directory is writable; an endpoint that does not answer is refused", async () => {
    const dir = await storeReport(path.join(work, "store"));
    assert.equal(dir.ok, true, formatReport(dir));
    const s3 = await storeReport("s3://gold/store?endpoint=http://127.0.0.1:9");
    assert.equal(s3.ok, false);
    assert.match(formatReport(s3), /^MISSING store .*\n\s+fix: check artifactStore/);
});

test("a stage that would build stops first when a tool it needs is missing; a stored stage checks nothing", async () => {
    const store = openStore(path.join(work, "stage-store"));
    const cache = new LocalStore("cache", path.join(work, "cache"));
    const fingerprint = createHash("sha256").update("doctor stage").digest("hex");
    const dir = path.join(work, "build");
    const ran = path.join(work, "ran");
    const command = `touch ${ran} && mkdir -p ${dir} && echo x > ${dir}/a.img && printf '{"artifact": "%s", "sha256": "%s", "bytes": 2}' ${dir}/a.img "$(sha256sum < ${dir}/a.img | cut -d' ' -f1)"`;
    const stage = () => runStage({ store, cache, fingerprint, stage: "t-needs", dir, command, needs: ["genisoimage", "packer"], log: () => undefined });

    await withPath({}, "", () => assert.rejects(stage(), /t-needs: this machine cannot build it[^]*MISSING genisoimage[^]*fix: apt-get install genisoimage[^]*MISSING packer/));
    assert.equal(fs.existsSync(ran), false, "nothing was built");
    await assert.doesNotReject(requireTools("t", []));

    // Control: with the tools (fakes that answer), it builds; once stored, it is found without them.
    await withPath({ genisoimage: "echo 'genisoimage 1.1.11 (Linux)'", packer: "echo 'Packer v1.6.6'" }, "/usr/bin:/bin", stage);
    assert.equal(fs.existsSync(ran), true);
    fs.rmSync(ran);
    await withPath({}, "", stage);
    assert.equal(fs.existsSync(ran), false, "found in the store: not built, and no tool asked for");
});
