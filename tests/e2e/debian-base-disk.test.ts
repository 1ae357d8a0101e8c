// scripts/debian-base-disk.sh for real: builds (or takes from its cache) the Debian 12 base disk
// with a fresh ed25519 key, BOOTS it under QEMU (TCG, direct kernel boot, virtio disk and net,
// user networking with SSH forwarded to a free local port), logs in as root with the key and
// checks the system, powers it off, then checks that a second call is a fast cache hit.
// Needs root, mmdebstrap and QEMU; a cold build takes ~3 min (mmdebstrap), a new key on a
// cached rootfs about a minute. GOLD_E2E_CACHE moves the cache (default ~/.cache/gold-images/e2e).
//   TS_NODE_TRANSPILE_ONLY=true node --require ts-node/register --test tests/e2e/debian-base-disk.test.ts
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, test } from "node:test";
import { ChildProcess, spawn } from "node:child_process";
import { missingTool, run, tempDir, sha256File, freePort } from "../support/tools";

const script = path.resolve(__dirname, "..", "..", "scripts", "debian-base-disk.sh");
const BOOT_TIMEOUT_S = Number(process.env.GOLD_E2E_BOOT_TIMEOUT ?? 300);

const skip =
    (process.getuid?.() !== 0 ? "needs root (mmdebstrap)" : undefined) ??
    ["mmdebstrap", "eatmydata", "mke2fs", "mkfs.fat", "sfdisk", "qemu-img", "zstd", "qemu-system-x86_64", "ssh", "ssh-keygen"]
        .map(missingTool)
        .find((r) => r !== undefined);

const root = tempDir("debian-base");
const qemus = new Set<ChildProcess>();
const killAll = () => {
    for (const q of qemus) if (q.exitCode === null && q.signalCode === null) q.kill("SIGKILL");
};
// No QEMU may outlive the test, whatever happens.
process.on("exit", () => {
    killAll();
    fs.rmSync(root, { recursive: true, force: true });
});
after(killAll);

interface Report {
    disk: string;
    kernel: string;
    initrd: string;
    append: string;
    sha256: string;
    cached: boolean;
    virtualSize?: number;
    cacheDir?: string;
}


async function build(outDir: string, pubkey: string): Promise<{ report: Report; seconds: number; stderr: string }> {
    const started = Date.now();
    const r = await run(script, [outDir, pubkey]);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(r.code, 0, `debian-base-disk.sh failed:\n${r.stderr}`);
    const lines = r.stdout.split("\n").filter((l) => l.trim() !== "");
    assert.equal(lines.length, 1, `stdout must be one JSON line, got:\n${r.stdout}`);
    return { report: JSON.parse(lines[0]), seconds, stderr: r.stderr };
}


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function exited(q: ChildProcess, ms: number): Promise<boolean> {
    if (q.exitCode !== null || q.signalCode !== null) return Promise.resolve(true);
    return new Promise((resolve) => {
        const t = setTimeout(() => resolve(false), ms);
        q.once("exit", () => {
            clearTimeout(t);
            resolve(true);
        });
    });
}

const LINUX = "0fc63daf-8483-4772-8e79-3d69d8477de4";
const BIOS_BOOT = "21686148-6449-6e6f-744e-656564454649";
const ESP = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";

/** A GPT's used entries (the first 34 sectors of a disk): number, type GUID, first and last sector. */
function gptPartitions(head: Buffer): { number: number; type: string; first: number; last: number }[] {
    assert.equal(head.readUInt16LE(510), 0xaa55, "the protective MBR's signature");
    assert.equal(head[446 + 4], 0xee, "a protective MBR (type 0xee)");
    assert.equal(head.toString("latin1", 512, 520), "EFI PART", "the GPT header");
    const at = Number(head.readBigUInt64LE(512 + 72)) * 512;
    const count = head.readUInt32LE(512 + 80);
    const size = head.readUInt32LE(512 + 84);
    const guid = (b: Buffer) => {
        const h = b.toString("hex");
        const le = (s: string) => s.match(/../g)!.reverse().join("");
        return `${le(h.slice(0, 8))}-${le(h.slice(8, 12))}-${le(h.slice(12, 16))}-${h.slice(16, 20)}-${h.slice(20)}`;
    };
    const out = [];
    for (let i = 0; i < count; i++) {
        const e = head.subarray(at + i * size, at + (i + 1) * size);
        if (e.length < 48 || e.subarray(0, 16).every((b) => b === 0)) continue;
        out.push({ number: i + 1, type: guid(e.subarray(0, 16)), first: Number(e.readBigUInt64LE(32)), last: Number(e.readBigUInt64LE(40)) });
    }
    return out;
}

test("debian-base-disk.sh builds a bootable, cached Debian 12 base disk", { skip, timeout: 40 * 60 * 1000 }, async (t) => {
    const key = path.join(root, "id_ed25519");
    const keygen = await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "gold-e2e", "-f", key]);
    assert.equal(keygen.code, 0, keygen.stderr);

    // 1. Build (cold, or a new key on a cached rootfs, or a cache hit).
    const out1 = path.join(root, "out1");
    const first = await build(out1, `${key}.pub`);
    const r = first.report;
    const rootfsRestored = /restoring the rootfs/.test(first.stderr);
    t.diagnostic(`build: ${first.seconds.toFixed(1)} s (cached=${r.cached}, rootfs ${rootfsRestored ? "restored from cache" : "bootstrapped"})`);
    assert.equal(r.disk, path.join(fs.realpathSync(out1), "debian-12.qcow2"));
    assert.equal(r.kernel, path.join(fs.realpathSync(out1), "vmlinuz"));
    assert.equal(r.initrd, path.join(fs.realpathSync(out1), "initrd.img"));
    assert.match(r.append, /^root=\/dev\/vda1 .*console=ttyS0/);
    for (const f of [r.disk, r.kernel, r.initrd]) assert.ok(fs.statSync(f).size > 1024 * 1024, `${f} is too small`);
    assert.equal(sha256File(r.disk), r.sha256, "sha256 of the qcow2");
    const info = JSON.parse((await run("qemu-img", ["info", "--output=json", r.disk])).stdout);
    assert.equal(info.format, "qcow2");
    assert.equal(info["virtual-size"], 3 * 1024 ** 3);
    t.diagnostic(`disk: virtual ${info["virtual-size"]} B, qcow2 ${fs.statSync(r.disk).size} B (${(fs.statSync(r.disk).size / 1024 ** 2).toFixed(0)} MiB), kernel ${fs.statSync(r.kernel).size} B, initrd ${fs.statSync(r.initrd).size} B`);

    // The partition table, read here from the GPT itself (not the script's sfdisk): the hybrid
    // layout, root last so growpart can grow it.
    const raw = path.join(root, "head.raw");
    const dd = await run("qemu-img", ["dd", "-f", "qcow2", "-O", "raw", "bs=512", "count=34", `if=${r.disk}`, `of=${raw}`]);
    assert.equal(dd.code, 0, dd.stderr);
    const parts = gptPartitions(fs.readFileSync(raw));
    const sectors = (3 * 1024 ** 3) / 512;
    // sfdisk ends root on its 1 MiB grain: within the last MiB before the backup GPT (34 sectors).
    const rootEnd = parts.find((p) => p.number === 1)?.last ?? 0;
    assert.ok(rootEnd <= sectors - 34 && rootEnd > sectors - 34 - 2048, `root ends in the disk's last MiB: ${rootEnd} of ${sectors}`);
    assert.deepEqual(
        parts.map((p) => [p.number, p.type, p.first, p.number === 1 ? "end" : p.last]),
        [
            [1, LINUX, 262144, "end"],
            [14, BIOS_BOOT, 2048, 4095],
            [15, ESP, 4096, 262143],
        ],
        "GPT: root (1) last on the disk, BIOS boot (14) and the ESP (15) before it",
    );

    // 2. Boot it for real: direct kernel boot, the disk read-only (-snapshot), SSH forwarded.
    const port = await freePort();
    const serial = path.join(root, "serial.log");
    const qemuArgs = [
        "-machine", "accel=tcg", "-m", "1024", "-smp", "2",
        "-display", "none", "-monitor", "none", "-serial", `file:${serial}`, "-no-reboot",
        "-kernel", r.kernel, "-initrd", r.initrd, "-append", r.append,
        "-drive", `file=${r.disk},format=qcow2,if=virtio,snapshot=on`,
        "-netdev", `user,id=n0,hostfwd=tcp:127.0.0.1:${port}-:22`, "-device", "virtio-net-pci,netdev=n0",
    ];
    const qemuLog: string[] = [];
    const bootStarted = Date.now();
    const qemu = spawn("qemu-system-x86_64", qemuArgs, { stdio: ["ignore", "pipe", "pipe"] });
    qemus.add(qemu);
    qemu.stdout!.on("data", (d) => qemuLog.push(String(d)));
    qemu.stderr!.on("data", (d) => qemuLog.push(String(d)));
    const serialTail = () => (fs.existsSync(serial) ? fs.readFileSync(serial, "utf8").split("\n").slice(-40).join("\n") : "(no serial log)");

    const sshArgs = [
        "-i", key, "-p", String(port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
        "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", "root@127.0.0.1",
    ];
    const ssh = (command: string) => run("ssh", [...sshArgs, command]);
    try {
        let up = false;
        let last = "";
        while (Date.now() - bootStarted < BOOT_TIMEOUT_S * 1000) {
            assert.ok(qemu.exitCode === null && qemu.signalCode === null, `QEMU exited early (${qemu.exitCode ?? qemu.signalCode}):\n${qemuLog.join("")}\n${serialTail()}`);
            const probe = await ssh("python3 --version");
            if (probe.code === 0) {
                up = true;
                break;
            }
            last = probe.stderr;
            await sleep(2000);
        }
        const bootSeconds = (Date.now() - bootStarted) / 1000;
        assert.ok(up, `no SSH within ${BOOT_TIMEOUT_S} s (last: ${last.trim()}); serial console:\n${serialTail()}`);
        t.diagnostic(`boot to SSH: ${bootSeconds.toFixed(1)} s`);

        const state = await ssh("systemctl is-system-running --wait; systemctl --failed --no-legend --plain");
        t.diagnostic(`system state: ${state.stdout.trim().replace(/\n/g, " | ")}`);
        assert.match(state.stdout, /^running\b/, `systemctl is-system-running:\n${state.stdout}${state.stderr}`);

        const facts = await ssh(
            [
                "set -e",
                "python3 --version",
                "command -v sudo",
                "stat -c 'sudo-mode %a %U' \"$(command -v sudo)\"",
                "sudo -n true && echo sudo-works",
                "findmnt -n -o SOURCE,FSTYPE /",
                "findmnt -n -o SOURCE,FSTYPE /boot/efi",
                "cat /etc/hostname",
                "ip -4 -o addr show scope global | awk '{print \"addr\", $2, $4}'",
                "systemctl is-active systemd-networkd systemd-resolved ssh",
                "grep -c . /etc/ssh/ssh_host_ed25519_key.pub",
                "awk -F: '$1==\"root\"{print \"rootpw\", $2}' /etc/shadow",
                "lsmod | awk '$1 ~ /^virtio/ {print \"mod\", $1}'",
            ].join("\n"),
        );
        assert.equal(facts.code, 0, `checks in the guest failed:\n${facts.stdout}\n${facts.stderr}`);
        const o = facts.stdout;
        t.diagnostic(`guest: ${o.trim().replace(/\n/g, " | ")}`);
        assert.match(o, /^Python 3\.11\./m, "python3");
        assert.match(o, /^\/usr\/bin\/sudo$/m, "sudo");
        assert.match(o, /^sudo-mode 4755 root$/m, "sudo keeps its setuid bit");
        assert.match(o, /^sudo-works$/m);
        assert.match(o, /^\/dev\/vda1 ext4$/m, "root is vda1");
        assert.match(o, /^\/dev\/vda15 vfat$/m, "the ESP is mounted at /boot/efi");
        assert.match(o, /^gold-base$/m, "hostname");
        assert.match(o, /^addr (en|eth)\S+ 10\.0\.2\.15\/24$/m, "DHCP address from systemd-networkd");
        assert.match(o, /^active\nactive\nactive$/m, "networkd, resolved and ssh are active");
        assert.match(o, /^rootpw !/m, "root's password is locked");

        // 3. Shut down cleanly; QEMU must exit (-no-reboot), or it is killed.
        await ssh("systemctl poweroff");
        const stopped = await exited(qemu, 90_000);
        t.diagnostic(`poweroff: ${stopped ? "QEMU exited" : "QEMU still running after 90 s, killed"}`);
    } finally {
        if (qemu.exitCode === null && qemu.signalCode === null) {
            qemu.kill("SIGKILL");
            await exited(qemu, 10_000);
        }
        qemus.delete(qemu);
    }
    assert.ok(qemu.exitCode !== null || qemu.signalCode !== null, "QEMU is gone");

    // 4. The cache: the same key again is a hit, in seconds, with the same disk.
    const out2 = path.join(root, "out2");
    const second = await build(out2, `${key}.pub`);
    t.diagnostic(`cached build: ${second.seconds.toFixed(1)} s`);
    assert.equal(second.report.cached, true, "second call is a cache hit");
    assert.ok(second.seconds < 30, `cache hit took ${second.seconds} s`);
    assert.equal(second.report.sha256, r.sha256);
    assert.equal(sha256File(second.report.disk), r.sha256);
    assert.equal(second.report.disk, path.join(fs.realpathSync(out2), "debian-12.qcow2"));
    // The copy in out1 was booted with -snapshot: the cache and both copies are identical.
    assert.equal(sha256File(r.disk), r.sha256);

    // The disk made for this run's throw-away key is of no use to any later run (~700 MiB):
    // drop it, keep the rootfs tarball (a new key then costs ~30 s instead of ~6 min).
    if (!r.cached && r.cacheDir && path.basename(r.cacheDir).startsWith("debian-base-")) {
        fs.rmSync(r.cacheDir, { recursive: true, force: true });
    }
});
