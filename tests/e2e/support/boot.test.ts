// Tests of the end-to-end test support (boot.ts, inspect.ts) on fixtures made here:
//  - a tiny "kernel-only" disk: MBR + syslinux on a FAT partition booting the host's kernel with no
//    root fs (it panics in a few seconds): serial capture, every input format through the overlay,
//    the bootloader path (no -kernel), early QEMU exit, timeout, QEMU reaped even when the test
//    process is SIGTERMed or SIGKILLed, the original disk left unmodified;
//  - a real Debian disk (debootstrap, cached) booting from its own MBR/syslinux to a serial
//    login prompt and an sshd whose host keys are generated at first boot (the image ships none);
//  - an ext4 disk made with mke2fs -d + sfdisk (no mount) for inspectImage;
//  - tiny tar archives for extractDisk.
// Slow (QEMU TCG, libguestfs): run on its own:
//   TS_NODE_TRANSPILE_ONLY=true node --require ts-node/register --test tests/e2e/support/boot.test.ts
// GOLD_E2E_CACHE (default ~/.cache/gold-images/e2e) keeps the Debian fixture; GOLD_E2E_SKIP_DEBIAN=1
// skips the full-boot test (which costs ~6 min of debootstrap the first time).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { missingTool, run, tempDir } from "../../support/tools";
import { bootAndProbe, extractDisk, liveQemuCount, sawLoginPrompt } from "../../../components/firstboot/vm";
import { buildScript, inspectImage, isLockedPasswordField, parseOsRelease, parseOutput, rootShadowField } from "../../../components/firstboot/inspect";

const root = tempDir("e2e-support");
process.on("exit", () => fs.rmSync(root, { recursive: true, force: true }));
const CACHE = process.env.GOLD_E2E_CACHE ?? path.join(os.homedir(), ".cache", "gold-images", "e2e");
const MIB = 1024 * 1024;

function firstMissing(tools: string[]): string | undefined {
    for (const t of tools) {
        const m = missingTool(t);
        if (m) return m;
    }
    return undefined;
}

async function ok(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
    const r = await run(cmd, args, opts);
    assert.equal(r.code, 0, `${cmd} ${args.join(" ")} failed:\n${r.stderr.slice(-3000)}`);
    return r.stdout;
}

function sha256(file: string): string {
    return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
    } catch {
        return false;
    }
}

async function waitGone(pid: number, seconds: number): Promise<boolean> {
    for (let i = 0; i < seconds * 4; i++) {
        if (!alive(pid)) return true;
        await new Promise((r) => setTimeout(r, 250));
    }
    return !alive(pid);
}

// The host's newest kernel (linux-image-amd64) and its initrd (MODULES=most: has virtio/scsi/ata/ext4).
function hostKernel(): { version: string; vmlinuz: string; initrd: string } | undefined {
    const versions = fs.existsSync("/boot") ? fs.readdirSync("/boot").filter((f) => /^vmlinuz-/.test(f)).map((f) => f.slice(8)) : [];
    versions.sort();
    const version = versions.find((v) => fs.existsSync(`/boot/initrd.img-${v}`) && fs.existsSync(`/lib/modules/${v}`));
    return version ? { version, vmlinuz: `/boot/vmlinuz-${version}`, initrd: `/boot/initrd.img-${version}` } : undefined;
}

function mbrBin(): string | undefined {
    return ["/usr/lib/EXTLINUX/mbr.bin", "/usr/lib/syslinux/mbr/mbr.bin", "/usr/share/syslinux/mbr.bin"].find((f) => fs.existsSync(f));
}

const kernel = hostKernel();
const bootTools = firstMissing(["qemu-system-x86_64", "qemu-img", "syslinux", "mcopy", "mkfs.vfat", "sfdisk", "ssh-keyscan"]) ??
    (kernel ? undefined : "no /boot/vmlinuz-* with initrd (install linux-image-amd64)") ??
    (mbrBin() ? undefined : "no syslinux mbr.bin (install extlinux or syslinux-common)");

// Disk layout shared by both boot fixtures: MBR boot code (syslinux mbr.bin), p1 = FAT with
// syslinux + kernel (+ initrd) marked active, optional p2 = ext4 root. No mount, no loop device.
const DISK_SCRIPT = String.raw`
set -euo pipefail
w="$WORK"; out="$OUT"
mkfs.vfat -C -n GOLDBOOT "$w/boot.img" $((BOOT_MIB * 1024)) >/dev/null
syslinux --install "$w/boot.img"
mcopy -i "$w/boot.img" "$VMLINUZ" ::/vmlinuz
if [ -n "${"$"}{INITRD:-}" ]; then mcopy -i "$w/boot.img" "$INITRD" ::/initrd.img; fi
printf '%s\n' "$SYSLINUX_CFG" > "$w/syslinux.cfg"
mcopy -i "$w/boot.img" "$w/syslinux.cfg" ::/syslinux.cfg
rm -f "$out.tmp"; truncate -s $((DISK_MIB))M "$out.tmp"
if [ -n "${"$"}{ROOT_DIR:-}" ]; then
  printf 'label: dos\nstart=2048, size=%s, type=c, bootable\nstart=%s, type=83\n' $((BOOT_MIB * 2048)) $(((BOOT_MIB + 1) * 2048)) | sfdisk -q "$out.tmp"
  rootmib=$((DISK_MIB - BOOT_MIB - 1))
  truncate -s $((rootmib))M "$w/root.img"
  mke2fs -q -t ext4 -O ^64bit -L goldroot -d "$ROOT_DIR" "$w/root.img"
  dd if="$w/root.img" of="$out.tmp" bs=1M seek=$((BOOT_MIB + 1)) conv=notrunc,sparse status=none
else
  printf 'label: dos\nstart=2048, type=c, bootable\n' | sfdisk -q "$out.tmp"
fi
dd if="$MBR" of="$out.tmp" bs=440 count=1 conv=notrunc status=none
dd if="$w/boot.img" of="$out.tmp" bs=1M seek=1 conv=notrunc,sparse status=none
mv "$out.tmp" "$out"
`;

async function buildDisk(out: string, env: Record<string, string>): Promise<void> {
    const work = fs.mkdtempSync(path.join(root, "disk-"));
    try {
        await ok("bash", ["-c", DISK_SCRIPT], { env: { ...process.env, WORK: work, OUT: out, MBR: mbrBin()!, ...env } });
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}

/** Host kernel, no initrd, no root: prints to serial and panics ("panic=1" + -no-reboot: QEMU exits). */
let kernelDiskPromise: Promise<string> | undefined;
function kernelOnlyDisk(): Promise<string> {
    kernelDiskPromise ??= (async () => {
        const out = path.join(root, "kernel-only.raw");
        await buildDisk(out, {
            VMLINUZ: kernel!.vmlinuz,
            BOOT_MIB: "16",
            DISK_MIB: "20",
            SYSLINUX_CFG: ["SERIAL 0 115200", "DEFAULT linux", "PROMPT 0", "TIMEOUT 0", "LABEL linux", "  KERNEL /vmlinuz",
                "  APPEND console=ttyS0,115200n8 panic=1 gold-kernel-only-fixture"].join("\n"),
        });
        return out;
    })();
    return kernelDiskPromise;
}

// ---- the Debian fixture: debootstrap rootfs (cached as a tar), host kernel + initrd ----

const DEBOOTSTRAP_ARGS = ["--variant=minbase", "--include=systemd-sysv,dbus,udev,openssh-server", "bookworm"];
const MIRROR = process.env.GOLD_E2E_MIRROR ?? "http://deb.debian.org/debian";

// Turns the debootstrap tree into an image-like root: no SSH host keys, empty machine-id, keys
// generated by ssh.service at first boot, DHCP by systemd-networkd, the NIC modules of the host
// kernel (the root disk drivers are in the host's initrd).
const ROOTFS_SCRIPT = String.raw`
set -euo pipefail
R="$ROOT_DIR"
rm -f "$R"/etc/ssh/ssh_host_* "$R/var/lib/dbus/machine-id"
: > "$R/etc/machine-id"
mkdir -p "$R/etc/systemd/system/ssh.service.d" "$R/etc/systemd/network" \
  "$R/etc/systemd/system/multi-user.target.wants" "$R/etc/systemd/system/sockets.target.wants"
printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' > "$R/etc/systemd/system/ssh.service.d/hostkeys.conf"
printf '[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n' > "$R/etc/systemd/network/80-dhcp.network"
ln -sf /lib/systemd/system/systemd-networkd.service "$R/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
ln -sf /lib/systemd/system/systemd-networkd.socket "$R/etc/systemd/system/sockets.target.wants/systemd-networkd.socket"
echo goldfixture > "$R/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 goldfixture\n' > "$R/etc/hosts"
printf 'LABEL=goldroot / ext4 errors=remount-ro 0 1\n' > "$R/etc/fstab"
M="/lib/modules/$KVER"
mkdir -p "$R$M"
cp "$M"/modules.builtin "$M"/modules.builtin.modinfo "$M"/modules.order "$R$M"/
for m in drivers/net/virtio_net drivers/net/net_failover net/core/failover drivers/net/ethernet/intel/e1000/e1000; do
  for f in "$M/kernel/$m".ko*; do install -D -m 0644 "$f" "$R$M/kernel/${"$"}{f#$M/kernel/}"; done
done
depmod -b "$R" "$KVER"
`;

function debianSkipReason(): string | undefined {
    if (process.env.GOLD_E2E_SKIP_DEBIAN === "1") return "GOLD_E2E_SKIP_DEBIAN=1";
    if (process.getuid?.() !== 0) return "debootstrap and mke2fs -d of a root tree need root";
    return bootTools ?? firstMissing(["debootstrap", "mke2fs", "zstd", "depmod"]);
}

async function debianDisk(): Promise<string> {
    const k = kernel!;
    const rootfsKey = crypto.createHash("sha256").update(JSON.stringify([DEBOOTSTRAP_ARGS, MIRROR])).digest("hex").slice(0, 16);
    const rootfsTar = path.join(CACHE, `debian-rootfs-${rootfsKey}.tar.zst`);
    const st = (f: string) => `${f}:${fs.statSync(f).size}:${fs.statSync(f).mtimeMs}`;
    const key = crypto.createHash("sha256")
        .update(JSON.stringify([rootfsKey, ROOTFS_SCRIPT, DISK_SCRIPT, k.version, st(k.vmlinuz), st(k.initrd)]))
        .digest("hex").slice(0, 16);
    const dir = path.join(CACHE, `boot-fixture-${key}`);
    const disk = path.join(dir, "disk.raw");
    if (fs.existsSync(disk)) return disk;
    fs.mkdirSync(dir, { recursive: true });
    const work = fs.mkdtempSync(path.join(root, "debian-"));
    const tree = path.join(work, "rootfs");
    try {
        if (!fs.existsSync(rootfsTar)) {
            await ok("debootstrap", [...DEBOOTSTRAP_ARGS, tree, MIRROR]);
            await ok("tar", ["-C", tree, "--numeric-owner", "--xattrs", "-I", "zstd -T0 -3", "-cf", rootfsTar + ".tmp", "."]);
            fs.renameSync(rootfsTar + ".tmp", rootfsTar);
        } else {
            fs.mkdirSync(tree);
            await ok("tar", ["-C", tree, "--numeric-owner", "--xattrs", "-I", "zstd", "-xf", rootfsTar]);
        }
        await ok("bash", ["-c", ROOTFS_SCRIPT], { env: { ...process.env, ROOT_DIR: tree, KVER: k.version } });
        await buildDisk(disk, {
            VMLINUZ: k.vmlinuz,
            INITRD: k.initrd,
            ROOT_DIR: tree,
            BOOT_MIB: "96",
            DISK_MIB: "1024",
            SYSLINUX_CFG: ["SERIAL 0 115200", "DEFAULT linux", "PROMPT 0", "TIMEOUT 0", "LABEL linux", "  KERNEL /vmlinuz", "  INITRD /initrd.img",
                "  APPEND root=LABEL=goldroot ro console=tty0 console=ttyS0,115200n8 net.ifnames=0 quiet"].join("\n"),
        });
        return disk;
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}

// ================================ fast tests ================================

test("sawLoginPrompt recognises getty prompts, not log lines that mention login", () => {
    assert.ok(sawLoginPrompt("Debian GNU/Linux 12 goldfixture ttyS0\n\ngoldfixture login: "));
    assert.ok(sawLoginPrompt("\r\nlocalhost.localdomain login:"));
    assert.ok(sawLoginPrompt("login: "));
    assert.ok(!sawLoginPrompt("[  OK  ] Started systemd-logind.service - User Login Management.\n"));
    assert.ok(!sawLoginPrompt("Starting getty... (no prompt yet)"));
});

test("inspect helpers: os-release, shadow field, locked test, script/output round trip", () => {
    assert.deepEqual(parseOsRelease('NAME="Debian GNU/Linux"\nID=debian\n# c\nVERSION_ID="12"\n'), { NAME: "Debian GNU/Linux", ID: "debian", VERSION_ID: "12" });
    assert.equal(rootShadowField("daemon:*:1::\nroot:!$6$x:1::\n"), "!$6$x");
    assert.equal(rootShadowField("daemon:*:1::\n"), null);
    assert.ok(isLockedPasswordField("!"));
    assert.ok(isLockedPasswordField("*"));
    assert.ok(isLockedPasswordField("!$6$abc"));
    assert.ok(!isLockedPasswordField("$6$abc"));
    assert.ok(!isLockedPasswordField(""));
    assert.ok(!isLockedPasswordField(null));
    const s = buildScript("@@M@@", ["/a b", '/q"x'], ["/etc/*"]);
    assert.match(s, /exists "\/a b"/);
    assert.match(s, /-base64-out "\/q\\"x" -/);
    // A file whose content looks like a marker cannot confuse the parser (content is base64).
    const b64 = Buffer.from("@@M@@:done\n@@M@@:file:1:end\n").toString("base64");
    const out = ["@@M@@:file:0:exists", "true", "@@M@@:file:0:data", b64.slice(0, 20), b64.slice(20), "@@M@@:file:0:end",
        "@@M@@:file:1:exists", "false", "@@M@@:file:1:data", "@@M@@:file:1:end", "@@M@@:glob:0:begin", "/etc/b", "/etc/a", "@@M@@:glob:0:end", "@@M@@:done", ""].join("\n");
    assert.deepEqual(parseOutput(out, "@@M@@", 2, 1), { files: ["@@M@@:done\n@@M@@:file:1:end\n", null], globs: [["/etc/a", "/etc/b"]] });
    assert.throws(() => parseOutput("@@M@@:file:0:exists\ntrue\n", "@@M@@", 1, 0), /incomplete/);
});

test("extractDisk: gcp tar.gz (sparse disk.raw), OVA and Vagrant box (.vmdk)", { skip: firstMissing(["tar", "gzip"]) }, async () => {
    const d = fs.mkdtempSync(path.join(root, "extract-"));
    const src = path.join(d, "src");
    fs.mkdirSync(src);
    // 64 MiB disk.raw with data at both ends and a hole in between.
    const raw = path.join(src, "disk.raw");
    const fd = fs.openSync(raw, "w");
    fs.writeSync(fd, Buffer.from("HEAD-OF-DISK"), 0, 12, 0);
    fs.writeSync(fd, Buffer.from("TAIL-OF-DISK"), 0, 12, 64 * MIB - 12);
    fs.closeSync(fd);
    const gcp = path.join(d, "image.tar.gz");
    await ok("tar", ["--format=oldgnu", "-Sczf", gcp, "-C", src, "disk.raw"]);
    const g = await extractDisk(gcp, "raw-tar", path.join(d, "gcp"));
    assert.equal(g.format, "raw");
    assert.deepEqual(g.members, ["disk.raw"]);
    assert.equal(fs.statSync(g.path).size, 64 * MIB);
    assert.equal(sha256(g.path), sha256(raw));
    assert.ok(fs.statSync(g.path).blocks * 512 < 1 * MIB, `extracted disk.raw is not sparse (${fs.statSync(g.path).blocks} blocks)`);

    fs.writeFileSync(path.join(src, "gold.ovf"), "<Envelope/>");
    fs.writeFileSync(path.join(src, "gold.mf"), "SHA256(gold.ovf)= x\n");
    fs.writeFileSync(path.join(src, "gold-disk1.vmdk"), "VMDK-BYTES");
    const ova = path.join(d, "gold.ova");
    await ok("tar", ["--format=ustar", "-cf", ova, "-C", src, "gold.ovf", "gold.mf", "gold-disk1.vmdk"]);
    const o = await extractDisk(ova, "ova", path.join(d, "ova"));
    assert.deepEqual(o, { path: path.join(d, "ova", "gold-disk1.vmdk"), format: "vmdk", members: ["gold.ovf", "gold.mf", "gold-disk1.vmdk"] });
    assert.equal(fs.readFileSync(o.path, "utf8"), "VMDK-BYTES");
    assert.deepEqual(fs.readdirSync(path.join(d, "ova")), ["gold-disk1.vmdk"]);

    const boxSrc = path.join(d, "box");
    fs.mkdirSync(boxSrc);
    fs.writeFileSync(path.join(boxSrc, "metadata.json"), '{"provider":"virtualbox"}');
    fs.writeFileSync(path.join(boxSrc, "Vagrantfile"), "");
    fs.writeFileSync(path.join(boxSrc, "box.ovf"), "<Envelope/>");
    fs.writeFileSync(path.join(boxSrc, "box-disk001.vmdk"), "BOX-VMDK");
    const box = path.join(d, "gold.box");
    await ok("tar", ["-czf", box, "-C", boxSrc, "."]); // members as "./x", as vagrant package writes them
    const b = await extractDisk(box, "box", path.join(d, "boxout"));
    assert.equal(b.format, "vmdk");
    assert.equal(fs.readFileSync(b.path, "utf8"), "BOX-VMDK");
    assert.ok(b.members.includes("./metadata.json"));

    await assert.rejects(extractDisk(ova, "raw-tar", path.join(d, "x")), /no disk\.raw member/);
    await assert.rejects(extractDisk(gcp, "ova", path.join(d, "y")), /exactly one \.vmdk/);
});

// ================================ libguestfs ================================

test("inspectImage reads host keys, machine-id, authorized_keys, root's shadow field, os-release in one guestfish run",
    { skip: firstMissing(["guestfish", "mke2fs", "sfdisk", "qemu-img"]), timeout: 900_000 }, async () => {
        const d = fs.mkdtempSync(path.join(root, "inspect-"));
        const tree = path.join(d, "tree");
        const mk = (p: string, content: string, mode = 0o644) => {
            fs.mkdirSync(path.dirname(path.join(tree, p)), { recursive: true });
            fs.writeFileSync(path.join(tree, p), content, { mode });
        };
        const osRelease = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n';
        mk("usr/lib/os-release", osRelease);
        mk("etc/debian_version", "12.0\n");
        fs.symlinkSync("../usr/lib/os-release", path.join(tree, "etc/os-release"));
        mk("etc/fstab", "/dev/sda1 / ext4 defaults 0 1\n");
        mk("etc/shadow", "root:!*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n", 0o640);
        mk("etc/machine-id", "0123456789abcdef0123456789abcdef\n");
        mk("etc/ssh/ssh_host_ed25519_key", "PRIVATE\n", 0o600);
        mk("etc/ssh/ssh_host_ed25519_key.pub", "ssh-ed25519 AAAA host\n");
        mk("etc/ssh/sshd_config", "PermitRootLogin no\n");
        mk("root/.ssh/authorized_keys", "ssh-ed25519 AAAAC3Nza test@fixture\n", 0o600);
        for (const dir of ["bin", "sbin", "usr/bin", "usr/sbin", "var", "tmp"]) fs.mkdirSync(path.join(tree, dir), { recursive: true });
        const part = path.join(d, "part.img");
        const disk = path.join(d, "disk.raw");
        fs.writeFileSync(part, "");
        fs.truncateSync(part, 32 * MIB);
        await ok("mke2fs", ["-q", "-t", "ext4", "-d", tree, part]);
        fs.writeFileSync(disk, "");
        fs.truncateSync(disk, 34 * MIB);
        const sf = await run("sfdisk", ["-q", disk], { input: "start=2048, type=83\n" });
        assert.equal(sf.code, 0, sf.stderr);
        await ok("dd", [`if=${part}`, `of=${disk}`, "bs=1M", "seek=1", "conv=notrunc,sparse", "status=none"]);
        // Inspect it as the real test will see artifacts: a qcow2 (format given explicitly).
        const qcow = path.join(d, "disk.qcow2");
        await ok("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", disk, qcow]);
        const before = sha256(qcow);

        const r = await inspectImage(qcow, "qcow2", { files: ["/etc/ssh/sshd_config", "/etc/absent"], globs: ["/etc/ssh/*.pub"] });
        console.log(`inspectImage (one guestfish run, appliance start included): ${r.seconds.toFixed(1)} s`);
        assert.deepEqual(r.sshHostKeys, ["/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ed25519_key.pub"]);
        assert.equal(r.machineId, "0123456789abcdef0123456789abcdef\n");
        assert.ok(r.machineIdExists);
        assert.equal(r.rootAuthorizedKeys, "ssh-ed25519 AAAAC3Nza test@fixture\n");
        assert.ok(r.rootAuthorizedKeysExists);
        assert.equal(r.rootPasswordField, "!*");
        assert.ok(isLockedPasswordField(r.rootPasswordField));
        assert.equal(r.osRelease, osRelease);
        assert.equal(r.osReleaseFields.ID, "debian");
        assert.deepEqual(r.files, { "/etc/ssh/sshd_config": "PermitRootLogin no\n", "/etc/absent": null });
        assert.deepEqual(r.globs, { "/etc/ssh/*.pub": ["/etc/ssh/ssh_host_ed25519_key.pub"] });
        assert.equal(sha256(qcow), before, "inspection modified the image");
    });

// ============================= QEMU: kernel-only disk =============================

const FORMATS: { format: string; convertArgs: string[] }[] = [
    { format: "raw", convertArgs: [] },
    { format: "qcow2", convertArgs: ["-O", "qcow2", "-c"] },
    { format: "vpc", convertArgs: ["-O", "vpc", "-o", "subformat=fixed,force_size"] },
    { format: "vmdk", convertArgs: ["-O", "vmdk", "-o", "subformat=streamOptimized,adapter_type=lsilogic"] },
];

test("bootAndProbe boots each format through its own bootloader on an overlay, captures the serial console, notices QEMU exit, leaves the disk unmodified",
    { skip: bootTools, timeout: 900_000 }, async () => {
        const raw = await kernelOnlyDisk();
        const d = fs.mkdtempSync(path.join(root, "formats-"));
        for (const f of FORMATS) {
            let disk = raw;
            if (f.format !== "raw") {
                disk = path.join(d, `disk.${f.format}`);
                await ok("qemu-img", ["convert", "-f", "raw", ...f.convertArgs, raw, disk]);
            }
            const before = { sha: sha256(disk), mtime: fs.statSync(disk).mtimeMs };
            const log = path.join(d, `serial-${f.format}.log`);
            let pid = 0;
            const r = await bootAndProbe({ disk, format: f.format, timeoutSec: 180, logFile: log, onStart: (i) => (pid = i.pid) });
            console.log(`${f.format}: kernel panic fixture, QEMU exit after ${r.bootSeconds.toFixed(1)} s (${r.reason})`);
            assert.equal(r.booted, false);
            assert.match(r.reason, /^qemu exited/, `${f.format}: ${r.reason}\n${r.qemuStderr}\n${r.serialTail}`);
            const serial = fs.readFileSync(log, "utf8");
            assert.match(serial, /SeaBIOS/);
            // The kernel command line came from syslinux.cfg on the disk: the disk's own bootloader ran.
            assert.match(serial, /Command line:.*gold-kernel-only-fixture/);
            assert.match(serial, /Kernel panic/);
            assert.equal(r.sawLogin, false);
            assert.deepEqual(r.hostKeys, []);
            assert.ok(r.serialTail.length > 0 && r.serialTail.length <= 4096);
            assert.ok(!alive(pid), "QEMU survived");
            assert.equal(liveQemuCount(), 0);
            assert.deepEqual({ sha: sha256(disk), mtime: fs.statSync(disk).mtimeMs }, before, `${f.format}: the artifact was modified`);
            assert.equal(fs.readdirSync(d).filter((x) => x.endsWith(".qcow2") && x !== "disk.qcow2").length, 0);
        }
    });

test("bootAndProbe gives up at the timeout, with the ide and scsi buses too, and reaps QEMU", { skip: bootTools, timeout: 600_000 }, async () => {
    const raw = await kernelOnlyDisk();
    const d = fs.mkdtempSync(path.join(root, "timeout-"));
    for (const bus of ["ide", "scsi"] as const) {
        let pid = 0;
        // ide: a guest that never comes up (-S: QEMU starts with the CPU stopped) -> timeout.
        // scsi: virtio-scsi, the bootloader still finds the disk and the kernel runs.
        const r = await bootAndProbe({
            disk: raw, format: "raw", timeoutSec: bus === "ide" ? 8 : 60, logFile: path.join(d, `${bus}.log`), bus,
            extraQemuArgs: bus === "ide" ? ["-S"] : [], onStart: (i) => (pid = i.pid),
        });
        if (bus === "ide") {
            assert.equal(r.reason, "timeout");
            assert.equal(r.booted, false);
            assert.ok(r.bootSeconds >= 8 && r.bootSeconds < 30, `gave up after ${r.bootSeconds} s`);
        } else {
            // virtio-scsi: the bootloader still finds the disk and the kernel runs.
            assert.match(fs.readFileSync(path.join(d, `${bus}.log`), "utf8"), /gold-kernel-only-fixture/, r.serialTail);
        }
        assert.ok(pid > 0 && !alive(pid), "QEMU survived");
    }
    assert.equal(liveQemuCount(), 0);
});

// Runs bootAndProbe in a child Node process on a guest that never finishes, then kills that process.
async function killedParentLeavesNoQemu(signal: NodeJS.Signals): Promise<void> {
    const raw = await kernelOnlyDisk();
    const d = fs.mkdtempSync(path.join(root, `kill-${signal}-`));
    const pidFile = path.join(d, "qemu.pid");
    const code = `
        const { bootAndProbe } = require(${JSON.stringify(path.join(__dirname, "boot.ts"))});
        bootAndProbe({ disk: ${JSON.stringify(raw)}, format: "raw", timeoutSec: 600, logFile: ${JSON.stringify(path.join(d, "serial.log"))},
            extraQemuArgs: ["-S"], onStart: (i) => { const fs = require("fs"), path = require("path");
                fs.writeFileSync(${JSON.stringify(path.join(d, "overlay.dir"))}, path.dirname(i.overlay));
                fs.writeFileSync(${JSON.stringify(pidFile)}, String(i.pid)); } });`;
    const child = spawn(process.execPath, ["--require", "ts-node/register", "-e", code], {
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" }, stdio: "ignore", cwd: path.resolve(__dirname, "..", "..", ".."),
    });
    const exited = new Promise<void>((r) => child.on("exit", () => r()));
    let qemuPid = 0;
    for (let i = 0; i < 240 && !qemuPid; i++) {
        await new Promise((r) => setTimeout(r, 250));
        if (fs.existsSync(pidFile)) qemuPid = Number(fs.readFileSync(pidFile, "utf8"));
    }
    assert.ok(qemuPid > 0, "child never started QEMU");
    assert.ok(alive(qemuPid));
    child.kill(signal);
    await exited;
    const gone = await waitGone(qemuPid, 20);
    if (!gone) process.kill(qemuPid, "SIGKILL");
    assert.ok(gone, `QEMU ${qemuPid} survived the ${signal} of its parent`);
    // Its overlay directory goes too (exit hook for SIGTERM, watchdog for SIGKILL).
    const overlayDir = fs.readFileSync(path.join(d, "overlay.dir"), "utf8");
    for (let i = 0; i < 20 && fs.existsSync(overlayDir); i++) await new Promise((r) => setTimeout(r, 250));
    assert.ok(!fs.existsSync(overlayDir), `${overlayDir} left behind`);
}

test("no QEMU survives a SIGTERM of the test process (signal hooks)", { skip: bootTools, timeout: 120_000 }, () => killedParentLeavesNoQemu("SIGTERM"));
test("no QEMU survives a SIGKILL of the test process (watchdog)", { skip: bootTools, timeout: 120_000 }, () => killedParentLeavesNoQemu("SIGKILL"));

// ============================= QEMU: real Debian boot =============================

test("bootAndProbe: a Debian disk boots from its own MBR to a serial login prompt and serves first-boot SSH host keys (raw and streamOptimized vmdk)",
    { skip: debianSkipReason(), timeout: 1_800_000 }, async () => {
        const t0 = Date.now();
        const raw = await debianDisk();
        console.log(`debian fixture ready in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${raw}`);
        const d = fs.mkdtempSync(path.join(root, "debian-"));
        const vmdk = path.join(d, "disk.vmdk");
        await ok("qemu-img", ["convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized,adapter_type=lsilogic", raw, vmdk]);
        for (const [disk, format] of [[raw, "raw"], [vmdk, "vmdk"]] as const) {
            const before = sha256(disk);
            const log = path.join(d, `serial-${format}.log`);
            let pid = 0;
            const r = await bootAndProbe({ disk, format, timeoutSec: 300, logFile: log, onStart: (i) => (pid = i.pid) });
            console.log(`debian ${format}: booted=${r.booted} login at ${r.loginSeconds?.toFixed(1)} s, login+host keys at ${r.bootSeconds.toFixed(1)} s, ${r.hostKeys.length} keys`);
            assert.ok(r.booted, `${format}: ${r.reason}\n${r.qemuStderr}\n${r.serialTail}`);
            assert.ok(r.sawLogin);
            assert.ok(r.hostKeys.some((k) => k.startsWith("ssh-ed25519 ")), r.hostKeys.join("\n"));
            assert.doesNotMatch(fs.readFileSync(log, "utf8"), /Kernel panic/);
            assert.ok(!alive(pid), "QEMU survived");
            assert.equal(sha256(disk), before, `${format}: the artifact was modified by the boot`);
        }
        // The disk still ships no host keys: they were made in the overlay only (checked offline).
        if (!missingTool("guestfish")) {
            const i = await inspectImage(raw, "raw", { mounts: ["/dev/sda2:/"] });
            assert.deepEqual(i.sshHostKeys, []);
            assert.equal(i.machineId, "");
            assert.ok(isLockedPasswordField(i.rootPasswordField), String(i.rootPasswordField));
            assert.equal(i.osReleaseFields.ID, "debian");
        }
        assert.equal(liveQemuCount(), 0);
    });
