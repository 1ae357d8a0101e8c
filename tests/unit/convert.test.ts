// scripts/convert.sh for real, on a small qcow2: every format's artifact is checked with
// qemu-img and tar, independently of the script (formats, sizes, member order, checksums,
// data round trip), plus the script's contract (one JSON line, SHA256SUMS, exit codes,
// nothing half-written on failure). The rootfs format runs libguestfs (TCG here: slow).
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { test } from "node:test";
import { spawn } from "node:child_process";
import { missingTool, run, tempDir, sha256File } from "../support/tools";

const script = path.resolve(__dirname, "..", "..", "scripts", "convert.sh");
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const FORMATS = ["vhd", "vhd-fixed", "raw-tar", "qcow2", "rootfs", "ova", "box"];
/** The OS facts the program passes (from the OS file), as for Rocky 9.8. */
const FACTS = ["--os-description", "Rocky 9.8", "--guest-os-vsphere", "rockylinux_64Guest", "--guest-os-virtualbox", "RedHat_64"];

const skipQemu = missingTool("qemu-img") ?? missingTool("qemu-io");
const root = tempDir("convert");
process.on("exit", () => fs.rmSync(root, { recursive: true, force: true }));

interface Report {
    artifact: string;
    sha256: string;
    bytes: number;
    format: string;
    virtualSize?: number;
    context?: string;
    [k: string]: unknown;
}

async function ok(cmd: string, args: string[], cwd?: string): Promise<string> {
    const r = await run(cmd, args, { cwd });
    assert.equal(r.code, 0, `${cmd} ${args.join(" ")} failed:\n${r.stderr}`);
    return r.stdout;
}

async function info(file: string, fmt?: string): Promise<any> {
    return JSON.parse(await ok("qemu-img", ["info", "--output=json", ...(fmt ? ["-f", fmt] : []), file]));
}


/** Test disks: 100 MiB and 100 MiB + 512 bytes, with data at odd offsets (also in the last sector). */
let disks: Promise<{ mib: string; odd: string; mibRaw: string; oddRaw: string }> | undefined;
function testDisks() {
    disks ??= (async () => {
        const mib = path.join(root, "in-100M.qcow2");
        const odd = path.join(root, "in-100M+512.qcow2");
        await ok("qemu-img", ["create", "-q", "-f", "qcow2", mib, `${100 * MiB}`]);
        await ok("qemu-img", ["create", "-q", "-f", "qcow2", odd, `${100 * MiB + 512}`]);
        for (const [disk, size] of [[mib, 100 * MiB], [odd, 100 * MiB + 512]] as const) {
            await ok("qemu-io", ["-f", "qcow2", "-c", "write -P 0xab 12345 70001", "-c", `write -P 0x5c ${37 * MiB + 4097} 1000000`, "-c", `write -P 0x11 ${size - 512} 512`, disk]);
        }
        const mibRaw = path.join(root, "in-100M.raw");
        const oddRaw = path.join(root, "in-100M+512.raw");
        await ok("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", mib, mibRaw]);
        await ok("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", odd, oddRaw]);
        return { mib, odd, mibRaw, oddRaw };
    })();
    return disks;
}

/**
 * The progress of each qemu-img convert on stderr, by step: whole lines (no \r), a line at every
 * 10 % at most (each step's percents in order, to 100).
 */
function progressOf(stderr: string): Map<string, number[]> {
    assert.ok(!stderr.includes("\r"), "whole lines only");
    const steps = new Map<string, number[]>();
    for (const m of stderr.matchAll(/^convert\.sh: (.+): (\d+)%$/gm)) steps.set(m[1], [...(steps.get(m[1]) ?? []), Number(m[2])]);
    for (const [step, percents] of steps) {
        assert.equal(percents.at(-1), 100, `${step}: ${percents}`);
        assert.ok(percents.every((p, i) => i === 0 || Math.floor(p / 10) > Math.floor(percents[i - 1] / 10)), `${step}: one line per 10 % step: ${percents}`);
    }
    return steps;
}

let counter = 0;
/** Runs the script and checks its contract: exit 0, one JSON line, artifact and SHA256SUMS, its progress. */
async function convert(format: string, input: string, name: string, env: NodeJS.ProcessEnv = {}, options: string[] = []): Promise<{ out: string; report: Report; seconds: number; progress: Map<string, number[]>; stderr: string }> {
    const out = path.join(root, `out-${format}-${++counter}`);
    const started = Date.now();
    const r = await run(script, [format, input, out, name, ...FACTS, ...options], { env: { ...process.env, ...env } });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 1, `stdout must be exactly one JSON line, got:\n${r.stdout}`);
    assert.ok(r.stdout.endsWith("\n") && !r.stdout.slice(0, -1).includes("\n"));
    const report = JSON.parse(lines[0]) as Report;
    assert.ok(path.isAbsolute(report.artifact), report.artifact);
    assert.equal(path.dirname(report.artifact), out);
    assert.equal(report.bytes, fs.statSync(report.artifact).size);
    assert.equal(report.sha256, sha256File(report.artifact));
    assert.ok(!fs.existsSync(`${out}.partial`), "no .partial left behind");
    // SHA256SUMS covers every file of the directory and verifies.
    const files = (await ok("find", [".", "-type", "f", "!", "-name", "SHA256SUMS", "-printf", "%P\\n"], out)).trim().split("\n").sort();
    const listed = fs.readFileSync(path.join(out, "SHA256SUMS"), "utf8").trim().split("\n").map((l) => l.slice(66)).sort();
    assert.deepEqual(listed, files);
    await ok("sha256sum", ["--strict", "-c", "SHA256SUMS"], out);
    return { out, report, seconds, progress: progressOf(r.stderr), stderr: r.stderr };
}

/** Lists a tar (optionally gzip) archive's headers: name, typeflag and magic, in order. */
function tarHeaders(file: string): { name: string; type: string; magic: string; size: number }[] {
    let data = fs.readFileSync(file);
    if (data[0] === 0x1f && data[1] === 0x8b) data = zlib.gunzipSync(data);
    const headers = [];
    let off = 0;
    while (off + 512 <= data.length && data[off] !== 0) {
        const h = data.subarray(off, off + 512);
        const cstr = (a: number, b: number) => h.subarray(a, b).toString("latin1").replace(/\0.*$/s, "");
        const size = parseInt(cstr(124, 136).trim() || "0", 8);
        const type = String.fromCharCode(h[156]);
        headers.push({ name: cstr(0, 100), type, magic: h.subarray(257, 265).toString("latin1"), size });
        // A GNU sparse member ('S') stores only its data blocks: the real size is in the header.
        const stored = type === "S" ? parseInt(cstr(483, 495).trim() || "0", 8) : size;
        off += 512 + Math.ceil(stored / 512) * 512;
    }
    return headers;
}

const skipOpts = { skip: skipQemu };

test("unknown format exits 2 and names the valid formats; missing input exits 2", async () => {
    const out = path.join(root, "bad");
    let r = await run(script, ["amiga", "/nonexistent", out, "X"]);
    assert.equal(r.code, 2);
    for (const f of FORMATS) assert.match(r.stderr, new RegExp(`(^|\\s)${f}(\\s|$)`, "m"));
    assert.equal(r.stdout, "");
    r = await run(script, ["vhd", path.join(root, "does-not-exist.qcow2"), out, "X"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /does-not-exist/);
    r = await run(script, ["vhd"]);
    assert.equal(r.code, 2);
    assert.ok(!fs.existsSync(out) && !fs.existsSync(`${out}.partial`));
});

test("every value written into the OVF, Vagrantfile, Dockerfile or JSON is checked first (exit 2, nothing made)", skipOpts, async () => {
    const { mib } = await testDisks();
    const out = path.join(root, "hostile");
    const cases: [string[], RegExp][] = [
        [["vhd", mib, out, 'X"}'], /NAME .* must match/],
        [["ova", mib, out, "X", "--os-description", "a</Description><x>"], /--os-description .* must be letters/],
        [["ova", mib, out, "X", "--guest-os-vsphere", 'x"/><y'], /--guest-os-vsphere .* must be a vSphere guest id/],
        [["box", mib, out, "X", "--guest-os-virtualbox", "a b"], /--guest-os-virtualbox .* must be a VirtualBox OS type/],
        [["ova", mib, out, "X"], /format ova needs --guest-os-vsphere/],
        [["box", mib, out, "X"], /format box needs --guest-os-virtualbox/],
        [["vhd", mib, out, "X", "--input-format", "qcow2;id"], /--input-format .* is not one of/],
        [["vhd", mib, out, "X", "--bogus", "1"], /unknown option '--bogus'/],
        [["vhd", mib, out, "X", "--input-format"], /needs a value/],
        [["ova", mib, out, "X", ...FACTS, "--firmware", 'efi"/><x'], /--firmware 'efi"\/><x' is not one of bios, efi/],
        [["ova", mib, out, "X", ...FACTS, "--secure-boot", "1"], /--secure-boot '1' is not one of true, false/],
        [["vhd", mib, out, "X", "--firmware", "efi"], /--firmware and --secure-boot are for formats ova and box, not vhd/],
        [["ova", mib, out, "X", ...FACTS, "--firmware", "bios", "--secure-boot", "true"], /--secure-boot true needs --firmware efi/],
        [["box", mib, out, "X", ...FACTS, "--firmware", "efi", "--secure-boot", "true"], /--secure-boot true is for format ova only/],
    ];
    for (const [args, message] of cases) {
        const r = await run(script, args);
        assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, message, args.join(" "));
        assert.equal(r.stdout, "");
        assert.ok(!fs.existsSync(out) && !fs.existsSync(`${out}.partial`));
    }
});

test("--input-format reads a VMDK (the VirtualBox and VMware ISO builds' disk)", skipOpts, async () => {
    const { mib } = await testDisks();
    const vmdk = path.join(root, "in.vmdk");
    await ok("qemu-img", ["convert", "-f", "qcow2", "-O", "vmdk", mib, vmdk]);
    const out = path.join(root, "from-vmdk");
    const r = await run(script, ["qcow2", vmdk, out, "FromVmdk_x", "--input-format", "vmdk"]);
    assert.equal(r.code, 0, r.stderr);
    await ok("qemu-img", ["compare", "-f", "qcow2", "-F", "qcow2", mib, JSON.parse(r.stdout).artifact]);
});

test("a failure mid-way leaves no OUTPUT_DIR and no .partial, and keeps a previous OUTPUT_DIR intact", skipOpts, async () => {
    const notDisk = path.join(root, "not-a-disk.qcow2");
    fs.writeFileSync(notDisk, "this is not a disk image\n".repeat(100));
    for (const format of ["vhd", "raw-tar", "ova"]) {
        const out = path.join(root, `fail-${format}`);
        const r = await run(script, [format, notDisk, out, "Broken_x", ...FACTS]);
        assert.notEqual(r.code, 0);
        assert.equal(r.stdout, "", "no JSON on failure");
        assert.ok(!fs.existsSync(out), `${format}: no OUTPUT_DIR`);
        assert.ok(!fs.existsSync(`${out}.partial`), `${format}: no .partial`);
    }
    // A previous complete conversion survives a failed one.
    const { mib } = await testDisks();
    const { out, report } = await convert("qcow2", mib, "Keep_openstack");
    const r = await run(script, ["qcow2", notDisk, out, "Keep_openstack"]);
    assert.notEqual(r.code, 0);
    assert.equal(sha256File(report.artifact), report.sha256);
    assert.ok(!fs.existsSync(`${out}.partial`));
    // A stale .partial from a killed run is replaced, not mixed in.
    fs.mkdirSync(`${out}.partial`);
    fs.writeFileSync(path.join(`${out}.partial`, "junk"), "x");
    await convert("qcow2", mib, "Keep_openstack");
    assert.ok(!fs.existsSync(path.join(out, "junk")));
});

test("SIGTERM mid-conversion stops the running step at once and removes the partial directory", skipOpts, async () => {
    const { mib } = await testDisks();
    // A stand-in qemu-img whose `convert` makes its output, records its pid (whole, once the
    // output is there) and hangs; `info` is the real one.
    const bin = path.join(root, "slow-bin");
    fs.mkdirSync(bin);
    const real = (await ok("sh", ["-c", "command -v qemu-img"])).trim();
    const pidFile = path.join(root, "slow.pid");
    fs.writeFileSync(path.join(bin, "qemu-img"), `#!/bin/sh\nif [ "$1" = convert ]; then : > "$(eval echo \\\${$#})"; echo $$ > "${pidFile}.tmp"; mv "${pidFile}.tmp" "${pidFile}"; exec sleep 120; fi\nexec ${real} "$@"\n`, { mode: 0o755 });
    const out = path.join(root, "killed");
    const child = spawn(script, ["qcow2", mib, out, "Killed_openstack"], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const deadline = Date.now() + 180_000;
    while (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, "utf8").trim() === "") {
        assert.ok(Date.now() < deadline, "the conversion step never started");
        await new Promise((r) => setTimeout(r, 50));
    }
    const stepPid = Number(fs.readFileSync(pidFile, "utf8"));
    assert.ok(fs.existsSync(path.join(`${out}.partial`, "Killed_openstack.qcow2")), "work happens in .partial");
    const killedAt = Date.now();
    child.kill("SIGTERM");
    assert.equal(await closed, 143);
    // The step sleeps 120 s: ending well before is not waiting for it (a loaded machine is slow, not that slow).
    assert.ok(Date.now() - killedAt < 60_000, "the script does not wait for the step to finish");
    assert.equal(stdout, "");
    assert.ok(!fs.existsSync(out) && !fs.existsSync(`${out}.partial`));
    assert.throws(() => process.kill(stepPid, 0), /ESRCH/, "the running step was stopped");
});

test("aws: dynamic VHD that holds the same data", skipOpts, async (t) => {
    const { mib } = await testDisks();
    const { report, seconds, progress } = await convert("vhd", mib, "Test_aws");
    t.diagnostic(`aws conversion: ${seconds} s`);
    assert.deepEqual([...progress.keys()], ["qcow2 to dynamic VHD"]);
    assert.equal(path.basename(report.artifact), "Test_aws.vhd");
    assert.equal(report.format, "vhd");
    const i = await info(report.artifact, "vpc");
    assert.equal(i.format, "vpc");
    assert.equal((await info(report.artifact)).format, "vpc", "a dynamic VHD is detected as vpc");
    assert.ok(i["virtual-size"] >= 100 * MiB);
    assert.ok(report.bytes < 20 * MiB, "dynamic: only allocated blocks are stored");
    await ok("qemu-img", ["compare", "-f", "qcow2", "-F", "vpc", mib, report.artifact]);
});

test("azure: fixed VHD, virtual size a whole number of MiB, rounded up when the input is not", skipOpts, async (t) => {
    const { mib, odd } = await testDisks();
    for (const [input, expected] of [[mib, 100 * MiB], [odd, 101 * MiB]] as const) {
        const { report, seconds, progress } = await convert("vhd-fixed", input, "Test_azure");
        t.diagnostic(`azure conversion (${path.basename(input)}): ${seconds} s`);
        assert.deepEqual([...progress.keys()], ["qcow2 to raw", "raw to fixed VHD"]);
        assert.equal(path.basename(report.artifact), "Test_azure.vhd");
        assert.equal(report.format, "vhd-fixed");
        const i = await info(report.artifact, "vpc");
        assert.equal(i.format, "vpc");
        assert.equal(i["virtual-size"], expected);
        assert.equal(i["virtual-size"] % MiB, 0);
        assert.equal(report.virtualSize, expected);
        // Fixed VHD = the raw disk followed by a 512-byte footer with the "conectix" cookie.
        assert.equal(report.bytes, expected + 512);
        const fd = fs.openSync(report.artifact, "r");
        const footer = Buffer.alloc(512);
        fs.readSync(fd, footer, 0, 512, report.bytes - 512);
        fs.closeSync(fd);
        assert.equal(footer.subarray(0, 8).toString("latin1"), "conectix");
        assert.equal(footer.readUInt32BE(60), 2, "disk type 2 = fixed");
        await ok("qemu-img", ["compare", "-f", "qcow2", "-F", "vpc", input, report.artifact]);
    }
});

test("gcp: tar.gz with only disk.raw, GNU oldgnu sparse, a whole number of GiB, same data", skipOpts, async (t) => {
    const { odd, oddRaw } = await testDisks();
    const { report, seconds, progress, stderr } = await convert("raw-tar", odd, "Test_gcp");
    t.diagnostic(`gcp conversion: ${seconds} s`);
    assert.deepEqual([...progress.keys()], ["qcow2 to raw"]);
    // The gzip after it is said as it starts (it takes minutes for a disk of gigabytes).
    assert.match(stderr, /^convert\.sh: qcow2 to raw: 100%\n(.*\n)*convert\.sh: disk\.raw into Test_gcp\.tar\.gz \(sparse tar, (pigz|gzip)\)\n/m);
    assert.equal(path.basename(report.artifact), "Test_gcp.tar.gz");
    assert.equal((await ok("tar", ["-tzf", report.artifact])).trim(), "disk.raw");
    const headers = tarHeaders(report.artifact);
    assert.equal(headers.length, 1);
    assert.equal(headers[0].magic, "ustar  \0", "GNU (oldgnu) header magic");
    assert.equal(headers[0].type, "S", "stored as a GNU sparse member");
    const x = path.join(root, "gcp-x");
    fs.mkdirSync(x);
    await ok("tar", ["-xzf", report.artifact, "-C", x]);
    const disk = path.join(x, "disk.raw");
    const size = fs.statSync(disk).size;
    assert.equal(size % GiB, 0);
    assert.equal(size, GiB);
    assert.equal(report.virtualSize, size);
    const n = 100 * MiB + 512;
    assert.equal(sha256File(disk, n), sha256File(oddRaw, n), "the first 100 MiB + 512 bytes round-trip");
    await ok("qemu-img", ["compare", "-f", "qcow2", "-F", "raw", odd, disk]);
    fs.rmSync(x, { recursive: true });
});

test("openstack: compressed qcow2 that passes qemu-img check", skipOpts, async (t) => {
    const { mib } = await testDisks();
    const { report, seconds, progress } = await convert("qcow2", mib, "Test_openstack");
    t.diagnostic(`openstack conversion: ${seconds} s`);
    t.diagnostic(`its progress: ${JSON.stringify([...progress])}`);
    assert.ok(progress.get("qcow2 to compressed qcow2")!.length >= 3, "steps of 10 % as qemu-img goes");
    // The meter reads what qemu-img prints: the artifact is the same bytes as without it.
    const direct = path.join(root, "direct.qcow2");
    await ok("qemu-img", ["convert", "-f", "qcow2", "-O", "qcow2", "-c", mib, direct]);
    assert.equal(report.sha256, sha256File(direct));
    assert.equal(path.basename(report.artifact), "Test_openstack.qcow2");
    const i = await info(report.artifact);
    assert.equal(i.format, "qcow2");
    assert.equal(i["virtual-size"], 100 * MiB);
    await ok("qemu-img", ["check", "-f", "qcow2", report.artifact]);
    // The 0xab/0x5c patterns compress to almost nothing.
    assert.ok(report.bytes < 512 * 1024, `compressed: ${report.bytes} bytes`);
    await ok("qemu-img", ["compare", "-f", "qcow2", "-F", "qcow2", mib, report.artifact]);
});

async function checkStreamVmdk(file: string, input: string) {
    const i = await info(file);
    assert.equal(i.format, "vmdk");
    assert.equal(i["format-specific"].data["create-type"], "streamOptimized");
    assert.equal(i["virtual-size"], 100 * MiB);
    assert.match(fs.readFileSync(file).subarray(0, 4096).toString("latin1"), /ddb\.adapterType = "ide"/);
    await ok("qemu-img", ["compare", "-f", "qcow2", "-F", "vmdk", input, file]);
}

function checkOvf(ovf: string, diskFile: string, diskBytes: number, profile: "vmware" | "virtualbox") {
    assert.match(ovf, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Envelope [^>]*xmlns="http:\/\/schemas.dmtf.org\/ovf\/envelope\/1"/);
    assert.match(ovf, new RegExp(`<File ovf:href="${diskFile}" ovf:id="file1" ovf:size="${diskBytes}"/>`));
    assert.match(ovf, new RegExp(`<Disk ovf:capacity="${100 * MiB}" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>`));
    assert.match(ovf, /<NetworkSection>/);
    // The guest type from the OS file, each hypervisor its own; the description likewise.
    if (profile === "vmware") assert.match(ovf, /<OperatingSystemSection ovf:id="101" vmw:osType="rockylinux_64Guest">/);
    else assert.match(ovf, /<OperatingSystemSection ovf:id="101">[\s\S]*<vbox:OSType ovf:required="false">RedHat_64<\/vbox:OSType>/);
    assert.match(ovf, /<Description>Rocky 9\.8<\/Description>/);
    assert.match(ovf, /<rasd:ResourceType>3<\/rasd:ResourceType>\s*<rasd:VirtualQuantity>2<\/rasd:VirtualQuantity>/);
    assert.match(ovf, /<rasd:ResourceType>4<\/rasd:ResourceType>\s*<rasd:VirtualQuantity>2048<\/rasd:VirtualQuantity>/);
    assert.match(ovf, /<rasd:HostResource>ovf:\/disk\/vmdisk1<\/rasd:HostResource>\s*<rasd:InstanceID>4<\/rasd:InstanceID>\s*<rasd:Parent>3<\/rasd:Parent>\s*<rasd:ResourceType>17</);
    if (profile === "vmware") {
        assert.match(ovf, /<vssd:VirtualSystemType>vmx-10<\/vssd:VirtualSystemType>/);
        // SATA: the controller every vSphere host and every guest kernel supports (mptspi is gone from EL8+).
        assert.match(ovf, /<rasd:ResourceSubType>vmware\.sata\.ahci<\/rasd:ResourceSubType>\s*<rasd:ResourceType>20</);
        assert.match(ovf, /<rasd:ResourceSubType>VMXNET3<\/rasd:ResourceSubType>\s*<rasd:ResourceType>10</);
    } else {
        assert.match(ovf, /<vssd:VirtualSystemType>virtualbox-2.2<\/vssd:VirtualSystemType>/);
        assert.match(ovf, /<rasd:ResourceSubType>AHCI<\/rasd:ResourceSubType>\s*<rasd:ResourceType>20</);
        assert.match(ovf, /<rasd:ResourceSubType>E1000<\/rasd:ResourceSubType>\s*<rasd:ResourceType>10</);
    }
    // Well-formed XML (every element closed in order) without an XML library.
    const stack: string[] = [];
    for (const m of ovf.replace(/<\?xml[^>]*\?>/, "").matchAll(/<(\/?)([A-Za-z:]+)[^>]*?(\/?)>/g)) {
        if (m[3] === "/") continue;
        if (m[1] === "/") assert.equal(stack.pop(), m[2]);
        else stack.push(m[2]);
    }
    assert.deepEqual(stack, []);
}

test("vmware: OVA with the .ovf first, a .mf whose SHA256 lines match, streamOptimized VMDK", skipOpts, async (t) => {
    const { mib } = await testDisks();
    const name = "Test_vmware";
    const { report, seconds, progress } = await convert("ova", mib, name);
    assert.deepEqual([...progress.keys()], ["qcow2 to streamOptimized VMDK"]);
    t.diagnostic(`vmware conversion: ${seconds} s`);
    assert.equal(path.basename(report.artifact), `${name}.ova`);
    assert.equal(report.format, "ova");
    const headers = tarHeaders(report.artifact);
    assert.deepEqual(headers.map((h) => h.name), [`${name}.ovf`, `${name}.mf`, `${name}-disk1.vmdk`]);
    for (const h of headers) assert.equal(h.magic, "ustar\x0000", "POSIX ustar headers");
    const x = path.join(root, "ova-x");
    fs.mkdirSync(x);
    await ok("tar", ["-xf", report.artifact, "-C", x]);
    const mf = fs.readFileSync(path.join(x, `${name}.mf`), "utf8");
    const expected = [`${name}.ovf`, `${name}-disk1.vmdk`].map((f) => `SHA256(${f})= ${sha256File(path.join(x, f))}`);
    assert.deepEqual(mf.trim().split("\n"), expected);
    const vmdk = path.join(x, `${name}-disk1.vmdk`);
    await checkStreamVmdk(vmdk, mib);
    const ovf = fs.readFileSync(path.join(x, `${name}.ovf`), "utf8");
    checkOvf(ovf, `${name}-disk1.vmdk`, fs.statSync(vmdk).size, "vmware");
    // Without --firmware the OVF declares none (the control of the next test).
    assert.doesNotMatch(ovf, /vmw:Config/);
    fs.rmSync(x, { recursive: true });
});

/** The OVF of an OVA converted with these options. */
async function ovfWith(options: string[]): Promise<string> {
    const { mib } = await testDisks();
    const { report } = await convert("ova", mib, "Test_vmware", {}, options);
    const x = fs.mkdtempSync(path.join(root, "ova-fw-"));
    await ok("tar", ["-xf", report.artifact, "-C", x]);
    const ovf = fs.readFileSync(path.join(x, "Test_vmware.ovf"), "utf8");
    checkOvf(ovf, "Test_vmware-disk1.vmdk", fs.statSync(path.join(x, "Test_vmware-disk1.vmdk")).size, "vmware");
    fs.rmSync(x, { recursive: true });
    return ovf;
}

test("vmware: the firmware and Secure Boot the program passes, as vmw:Config of the VirtualHardwareSection", skipOpts, async () => {
    const config = (key: string, value: string) => `<vmw:Config ovf:required="false" vmw:key="${key}" vmw:value="${value}"/>`;
    const efi = await ovfWith(["--firmware", "efi", "--secure-boot", "true"]);
    const hardware = /<VirtualHardwareSection[^>]*>([\s\S]*)<\/VirtualHardwareSection>/.exec(efi)![1];
    assert.ok(hardware.trimEnd().endsWith(`${config("firmware", "efi")}\n      ${config("uefi.secureBoot.enabled", "true")}`), hardware);
    assert.equal(efi.match(/vmw:Config/g)!.length, 2);
    const bios = await ovfWith(["--firmware", "bios", "--secure-boot", "false"]);
    assert.ok(bios.includes(`      ${config("firmware", "bios")}\n    </VirtualHardwareSection>`), bios);
    assert.doesNotMatch(bios, /secureBoot/);
    // EFI without Secure Boot: the firmware only (vSphere's default is off).
    const efiOnly = await ovfWith(["--firmware", "efi", "--secure-boot", "false"]);
    assert.ok(efiOnly.includes(config("firmware", "efi")));
    assert.doesNotMatch(efiOnly, /secureBoot/);
});

test("virtualbox: Vagrant box with metadata.json, Vagrantfile, box.ovf and a streamOptimized VMDK", skipOpts, async (t) => {
    const { mib } = await testDisks();
    const { report, seconds, progress } = await convert("box", mib, "Test_virtualbox");
    assert.deepEqual([...progress.keys()], ["qcow2 to streamOptimized VMDK"]);
    t.diagnostic(`virtualbox conversion: ${seconds} s`);
    assert.equal(path.basename(report.artifact), "Test_virtualbox.box");
    assert.equal(report.format, "box");
    assert.deepEqual((await ok("tar", ["-tzf", report.artifact])).trim().split("\n").sort(), ["Vagrantfile", "box-disk001.vmdk", "box.ovf", "metadata.json"]);
    const x = path.join(root, "box-x");
    fs.mkdirSync(x);
    await ok("tar", ["-xzf", report.artifact, "-C", x]);
    assert.equal(JSON.parse(fs.readFileSync(path.join(x, "metadata.json"), "utf8")).provider, "virtualbox");
    const vagrantfile = fs.readFileSync(path.join(x, "Vagrantfile"), "utf8");
    assert.match(vagrantfile, /^Vagrant\.configure\("2"\) do \|config\|\n {2}config\.vm\.base_mac = "080027[0-9A-F]{6}"\nend$/m);
    // BIOS, VirtualBox's default: no firmware said (the control of the EFI box below).
    assert.doesNotMatch(vagrantfile, /--firmware/);
    // templates/vagrant/Vagrantfile follows: the vagrant user, and no /vagrant synced folder
    // (the box has no Guest Additions to mount it).
    assert.ok(vagrantfile.endsWith(fs.readFileSync(path.resolve(__dirname, "../../templates/vagrant/Vagrantfile"), "utf8")));
    assert.match(vagrantfile, /config\.vm\.synced_folder "\.", "\/vagrant", disabled: true/);
    if (!missingTool("ruby")) await ok("ruby", ["-c", path.join(x, "Vagrantfile")]);
    const vmdk = path.join(x, "box-disk001.vmdk");
    await checkStreamVmdk(vmdk, mib);
    checkOvf(fs.readFileSync(path.join(x, "box.ovf"), "utf8"), "box-disk001.vmdk", fs.statSync(vmdk).size, "virtualbox");
    fs.rmSync(x, { recursive: true });
});

test("virtualbox: a box asked for EFI sets it in its packaged Vagrantfile", skipOpts, async () => {
    const { mib } = await testDisks();
    const { report } = await convert("box", mib, "Test_virtualbox", {}, ["--firmware", "efi"]);
    const x = fs.mkdtempSync(path.join(root, "box-efi-"));
    await ok("tar", ["-xzf", report.artifact, "-C", x, "Vagrantfile"]);
    const vagrantfile = fs.readFileSync(path.join(x, "Vagrantfile"), "utf8");
    assert.match(
        vagrantfile,
        /^ {2}config\.vm\.base_mac = "080027[0-9A-F]{6}"\n {2}config\.vm\.provider "virtualbox" do \|vb\|\n {4}vb\.customize \["modifyvm", :id, "--firmware", "efi"\]\n {2}end\nend$/m,
    );
    if (!missingTool("ruby")) await ok("ruby", ["-c", path.join(x, "Vagrantfile")]);
    fs.rmSync(x, { recursive: true });
});

// libguestfs boots its appliance under TCG here (no /dev/kvm): tens of seconds.
const skipDocker = skipQemu ?? missingTool("guestfish") ?? missingTool("mke2fs") ??
    (process.getuid?.() !== 0 ? "needs root to give the test filesystem's files other owners (mke2fs -d copies them)" : undefined) ??
    (fs.existsSync("/boot") && !fs.readdirSync("/boot").some((f) => f.startsWith("vmlinuz-"))
        ? "libguestfs needs a host kernel in /boot (apt-get install linux-image-amd64)" : undefined);

test("docker: root filesystem tarball keeps setuid bits and numeric owners, excludes /proc, with a tiny build context", { skip: skipDocker, timeout: 15 * 60 * 1000 }, async (t) => {
    const dir = path.join(root, "docker");
    const tree = path.join(dir, "tree");
    const mk = (p: string, content: string, mode = 0o644) => {
        fs.mkdirSync(path.dirname(path.join(tree, p)), { recursive: true });
        fs.writeFileSync(path.join(tree, p), content, { mode });
        fs.chmodSync(path.join(tree, p), mode);
    };
    mk("etc/os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n');
    mk("etc/fstab", "/dev/sda / ext4 defaults 0 1\n");
    mk("usr/bin/bash", "#!/bin/false\n", 0o755);
    mk("usr/bin/passwd", "not really passwd\n", 0o4755);
    mk("usr/bin/sudo", "not really sudo\n", 0o4711);
    mk("proc/1/status", "Name: init\n");
    mk("sys/kernel/x", "x\n");
    mk("tmp/junk", "junk\n");
    mk("var/cache/apt/pkgcache.bin", "cache\n");
    mk("boot/vmlinuz-test", "kernel\n");
    mk("home/user/file", "mine\n", 0o600);
    fs.mkdirSync(path.join(tree, "dev"));
    fs.mkdirSync(path.join(tree, "run"));
    fs.symlinkSync("usr/bin", path.join(tree, "bin"));
    fs.chownSync(path.join(tree, "home/user"), 1234, 5678);
    fs.chownSync(path.join(tree, "home/user/file"), 1234, 5678);
    const fsImg = path.join(dir, "fs.img");
    fs.writeFileSync(fsImg, "");
    fs.truncateSync(fsImg, 64 * MiB);
    await ok("mke2fs", ["-q", "-F", "-t", "ext4", "-d", tree, fsImg]);
    const disk = path.join(dir, "rootfs.qcow2");
    await ok("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", fsImg, disk]);

    const { out, report, seconds } = await convert("rootfs", disk, "Test_docker");
    t.diagnostic(`docker conversion (libguestfs, TCG): ${seconds} s`);
    assert.equal(report.artifact, path.join(out, "Test_docker.tar.gz"));
    assert.equal(report.context, path.join(out, "context"));
    assert.deepEqual(fs.readdirSync(path.join(out, "context")).sort(), ["Dockerfile", "rootfs.tar.gz"]);
    assert.equal(sha256File(path.join(out, "context", "rootfs.tar.gz")), report.sha256);
    const dockerfile = fs.readFileSync(path.join(out, "context", "Dockerfile"), "utf8");
    assert.match(dockerfile, /^FROM scratch\nADD rootfs\.tar\.gz \/\n/);
    assert.match(dockerfile, /^CMD \["\/bin\/bash"\]$/m);

    const listing = (await ok("tar", ["--numeric-owner", "-tvzf", report.artifact])).trim().split("\n");
    const entry = (p: string) => listing.find((l) => l.endsWith(` ${p}`) || l.includes(` ${p} -> `));
    assert.match(entry("./usr/bin/passwd") ?? "missing passwd", /^-rwsr-xr-x 0\/0 /, "setuid bit kept");
    assert.match(entry("./usr/bin/sudo") ?? "missing sudo", /^-rws--x--x 0\/0 /, "setuid bit kept");
    assert.match(entry("./home/user/file") ?? "missing file", /^-rw------- 1234\/5678 /, "numeric owners kept");
    assert.match(entry("./bin") ?? "missing bin", /^l.* \.\/bin -> usr\/bin$/);
    for (const d of ["./proc/", "./sys/", "./dev/", "./run/", "./tmp/", "./boot/", "./var/cache/"]) assert.ok(entry(d), `${d} itself is kept`);
    for (const gone of ["./proc/1", "./proc/1/status", "./sys/kernel/x", "./tmp/junk", "./var/cache/apt/pkgcache.bin", "./boot/vmlinuz-test"]) {
        assert.equal(listing.find((l) => l.endsWith(` ${gone}`) || l.endsWith(` ${gone}/`)), undefined, `${gone} excluded`);
    }
    assert.ok(entry("./etc/os-release"));
});

test("a swap cut short by kill -9 (only OUTPUT_DIR.old left) is undone by the next run, even one that fails", skipOpts, async () => {
    const { mib } = await testDisks();
    const { out, report } = await convert("qcow2", mib, "Swap-1_openstack");
    // As if killed between the two renames of the swap.
    fs.renameSync(out, `${out}.old`);
    const notDisk = path.join(root, "not-a-disk-2.qcow2");
    fs.writeFileSync(notDisk, "not a disk\n".repeat(100));
    const r = await run(script, ["qcow2", notDisk, out, "Swap-1_openstack"]);
    assert.notEqual(r.code, 0);
    assert.equal(sha256File(report.artifact), report.sha256, "the previous complete output is back");
    assert.ok(!fs.existsSync(`${out}.old`));
});
