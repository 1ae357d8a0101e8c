// Boot modes: their names (the first-boot command's --boot), the checks each mode runs in the
// guest (and the opposite firmware's check as a control), the drivers a cloud needs against
// what the OS's kernel has, QEMU's firmware arguments and swtpm's life, and the console lines
// that end a boot Secure Boot refused.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { bootChecks, driverChecks } from "../../components/firstboot/boot-checks";
import { BIOS, BOOT_NAMES, bootFromName, bootName } from "../../components/firstboot/mechanism";
import { OVMF, bootAndProbe, secureBootRefusal } from "../../components/firstboot/vm";
import { providers } from "../../components/providers";
import { definitionFeatures } from "../../components/providers/azure/gallery";
import { firstBootNeeds } from "../../components/stages/first-boot";
import { bootModeOf, defaultBootMode } from "../../components/providers/provider";
import { listOses, loadOs } from "../../components/recipe/os";
import { missingTool, tempDir } from "../support/tools";

const work = tempDir("boot-mode");

test("boot mode names: each name stands for one mode and back; an unknown name lists the valid ones", () => {
    for (const name of BOOT_NAMES) assert.equal(bootName(bootFromName(name)), name);
    assert.deepEqual(bootFromName("uefi+secure-boot+tpm"), { firmware: "uefi", secureBoot: true, tpm: true });
    assert.deepEqual(bootFromName("bios"), BIOS);
    assert.throws(() => bootFromName("uefi+tpm+secure-boot"), /'uefi\+tpm\+secure-boot' is no boot mode; valid choices: bios, uefi, uefi\+tpm, uefi\+secure-boot, uefi\+secure-boot\+tpm/);
    assert.throws(() => bootFromName("bios+tpm"), /valid choices/);
});

test("each mode's checks, and the other firmware's check as the control that must fail", () => {
    const names = (cs: { name: string }[]) => cs.map((c) => c.name);
    const secure = bootChecks({ firmware: "uefi", secureBoot: true, tpm: true }, "nvme");
    assert.deepEqual(names(secure.checks), [
        "started by UEFI firmware",
        "Secure Boot on (the firmware's SecureBoot variable is 1; the kernel in lockdown)",
        "a TPM 2.0 (/dev/tpm0 and /dev/tpmrm0)",
        "the measured boot log (the firmware's TPM event log)",
        "root on the nvme disk",
    ]);
    assert.deepEqual(names(secure.controls), ["started by BIOS (the disk's BIOS boot path)"]);
    const bios = bootChecks(BIOS, "scsi");
    assert.deepEqual(names(bios.checks), ["started by BIOS (the disk's BIOS boot path)", "root on the scsi disk"]);
    assert.deepEqual(names(bios.controls), ["started by UEFI firmware"]);
    // A TPM without Secure Boot (a cloud's UEFI with Secure Boot turned off): no claim of a measured boot log there.
    assert.deepEqual(names(bootChecks({ firmware: "uefi", secureBoot: false, tpm: true }, "nvme").checks), ["started by UEFI firmware", "a TPM 2.0 (/dev/tpm0 and /dev/tpmrm0)", "root on the nvme disk"]);
    // Plain UEFI asks for no Secure Boot and no TPM.
    assert.deepEqual(names(bootChecks({ firmware: "uefi", secureBoot: false, tpm: false }, "sata").checks), ["started by UEFI firmware", "root on the sata disk"]);
});

test("Azure's Trusted Launch is declared only where the first boot proved Secure Boot with a vTPM", () => {
    const debian = loadOs("Debian-12");
    const security = (boot: Parameters<typeof definitionFeatures>[1], gen: "V1" | "V2" = "V2") => definitionFeatures(gen, boot, debian).filter((f) => f.name === "SecurityType");
    assert.deepEqual(security(bootFromName("uefi+secure-boot+tpm")), [{ name: "SecurityType", value: "TrustedLaunchSupported" }]);
    // The controls: a generation-2 disk tested without Secure Boot, or without a TPM, claims nothing.
    assert.deepEqual(security(bootFromName("uefi+tpm")), []);
    assert.deepEqual(security(bootFromName("uefi+secure-boot")), []);
    assert.deepEqual(security(BIOS, "V1"), []);
});

test("what a first boot needs on the machine follows its boot mode: OVMF for UEFI (a box asked for EFI too), swtpm for a TPM", () => {
    const box = providers().get("virtualbox")!;
    assert.ok(!firstBootNeeds(box, BIOS).includes("ovmf"), "the control: a BIOS boot needs no OVMF");
    assert.ok(firstBootNeeds(box, bootFromName("uefi")).includes("ovmf"));
    assert.ok(!firstBootNeeds(box, bootFromName("uefi")).includes("swtpm"));
    const needs = firstBootNeeds(providers().get("azure")!, bootFromName("uefi+secure-boot+tpm"));
    for (const t of ["ovmf", "swtpm", "genisoimage", "guestfish"] as const) assert.ok(needs.includes(t), t);
});

test("the root-device check: a case per bus, refusing another bus's device", async () => {
    // The check's own command, run here against stand-in findmnt outputs.
    const bin = fs.mkdtempSync(path.join(work, "findmnt-"));
    const runWith = (source: string, cmd: string) => {
        fs.writeFileSync(path.join(bin, "findmnt"), `#!/bin/sh\necho ${source}\n`, { mode: 0o755 });
        return spawnSync("sh", ["-c", cmd], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } }).status;
    };
    const nvme = bootChecks(BIOS, "nvme").checks[1].run as string;
    assert.equal(runWith("/dev/nvme0n1p1", nvme), 0);
    assert.equal(runWith("/dev/sda1", nvme), 1, "the control: root on SCSI is not root on NVMe");
    const scsi = bootChecks(BIOS, "scsi").checks[1].run as string;
    assert.equal(runWith("/dev/sda1", scsi), 0);
    assert.equal(runWith("/dev/vda1", scsi), 1);
});

test("drivers: what the cloud needs and the kernel has is checked (storage in the initramfs); the rest is missing", () => {
    const d = driverChecks(["nvme", "gve", "idpf", "virtio_scsi"], loadOs("Debian-12").kernel_drivers);
    assert.deepEqual(d.missing, ["idpf"], "Debian 12's 6.1 has no idpf");
    assert.deepEqual(d.checks.map((c) => c.name), ["the kernel has nvme, gve, virtio_scsi", "nvme, virtio_scsi in the initramfs"]);
    const el7 = driverChecks(["nvme", "ena"], loadOs("CentOS-7.2.1511").kernel_drivers);
    assert.deepEqual(el7.missing, ["ena"]);
    assert.deepEqual(driverChecks(["ena"], []).checks, [], "nothing the kernel has: nothing to check");
});

test("every provider answers a boot every OS's disk can do, with its default settings", () => {
    for (const [name, p] of providers()) {
        for (const id of listOses()) {
            const os = loadOs(id);
            const mode = defaultBootMode(p, os);
            assert.ok(os.firmware.includes(mode.firmware), `${name} × ${id}: ${bootName(mode)}`);
            if (mode.secureBoot) assert.ok(os.secure_boot, `${name} × ${id}: Secure Boot on an OS without`);
        }
    }
    // The control: a BIOS-only OS asked for UEFI by a provider is refused.
    const uefi = { ...[...providers().values()][0], name: "test", boot: () => ({ firmware: "uefi" as const, secureBoot: false, tpm: false }) };
    assert.throws(() => bootModeOf(uefi, {}, loadOs("CentOS-7.2.1511")), /CentOS-7\.2\.1511's disk does not boot with uefi/);
    const secure = { ...uefi, boot: () => ({ firmware: "uefi" as const, secureBoot: true, tpm: false }) };
    assert.throws(() => bootModeOf(secure, {}, { ...loadOs("Debian-12"), secure_boot: false }), /does not boot under Secure Boot/);
});

test("Secure Boot's refusals on the console end a boot: the shim's and the firmware's", () => {
    assert.equal(secureBootRefusal("BdsDxe: loading Boot0001\r\nVerification failed: (0x1A) Security Violation\r\n"), "Verification failed: (0x1A) Security Violation");
    assert.equal(secureBootRefusal('BdsDxe: failed to load Boot0001 "UEFI QEMU NVMe Ctrl" from PciRoot(0x0): Access Denied\r\n'), 'BdsDxe: failed to load Boot0001 "UEFI QEMU NVMe Ctrl" from PciRoot(0x0): Access Denied');
    // As the shim draws it: a box of cursor moves, no line ends.
    assert.equal(secureBootRefusal("\x1b[0m\x1b[37m\x1b[44m\x1b[03;01H\u2502   \x1b[04;01H\u2502      Verification failed: (0x1A) Security Violation      \u2502\x1b[05;01H"), "Verification failed: (0x1A) Security Violation");
    // A guest's own "Access Denied" is no firmware refusal.
    assert.equal(secureBootRefusal("cat: /root/x: Access Denied\r\n"), undefined);
    assert.equal(secureBootRefusal("Loading Linux 6.1.0 ...\r\nDebian GNU/Linux 12 gold login: "), undefined);
});

const noTools = missingTool("swtpm") ?? (fs.existsSync(path.join(OVMF.dir, OVMF.secureBoot.code)) ? undefined : "no OVMF (apt-get install ovmf)");

test("UEFI with Secure Boot and a TPM: QEMU gets q35+SMM, OVMF's code and its own NVRAM, swtpm's socket; swtpm ends with the boot", { skip: noTools }, async () => {
    // A stand-in QEMU: records its arguments and exits.
    const bin = fs.mkdtempSync(path.join(work, "qemu-"));
    const argsFile = path.join(bin, "args");
    fs.writeFileSync(path.join(bin, "qemu-system-x86_64"), `#!/bin/sh\nprintf '%s\\n' "$@" > ${argsFile}\nsleep 1\nexit 1\n`, { mode: 0o755 });
    const disk = path.join(work, "blank.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", disk, "16M"]);
    const PATH = process.env.PATH;
    process.env.PATH = `${bin}:${PATH}`;
    try {
        const before = swtpms();
        const r = await bootAndProbe({ disk, format: "qcow2", timeoutSec: 20, logFile: path.join(work, "uefi-serial.log"), firmware: "uefi", secureBoot: true, tpm: true, bus: "nvme" });
        assert.equal(r.reason, "qemu exited (code 1)");
        const args = fs.readFileSync(argsFile, "utf8").split("\n");
        const after = (flag: string) => args.filter((_, i) => args[i - 1] === flag);
        assert.ok(after("-machine").some((m) => m.startsWith("q35,smm=on")), after("-machine").join(" "));
        assert.ok(after("-global").includes("driver=cfi.pflash01,property=secure,value=on"));
        const flash = after("-drive").filter((d) => d.startsWith("if=pflash"));
        assert.equal(flash.length, 2);
        assert.match(flash[0], new RegExp(`readonly=on,file=${OVMF.dir}/${OVMF.secureBoot.code.replace(/\./g, "\\.")}$`));
        assert.ok(!flash[1].includes(OVMF.dir), "the NVRAM is a copy of the template, never the template");
        assert.ok(after("-device").includes("tpm-crb,tpmdev=tpm0"));
        assert.match(after("-chardev")[0], /^socket,id=chrtpm,path=.*tpm\.sock$/);
        // Others (the end-to-end test's boots) may run swtpm meanwhile: a leaked one of this boot
        // is one whose state directory the boot already removed.
        assert.deepEqual(swtpms().filter((p) => !before.includes(p) && !stateDirExists(p)), [], "swtpm ended with the boot");
        // The control: BIOS gets none of it.
        await bootAndProbe({ disk, format: "qcow2", timeoutSec: 20, logFile: path.join(work, "bios-serial.log") });
        const biosArgs = fs.readFileSync(argsFile, "utf8");
        assert.ok(!/pflash|tpmdev|q35/.test(biosArgs), biosArgs);
        await assert.rejects(bootAndProbe({ disk, format: "qcow2", timeoutSec: 5, logFile: path.join(work, "x.log"), secureBoot: true }), /Secure Boot and a TPM need firmware uefi/);
    } finally {
        process.env.PATH = PATH;
    }
});

/** Whether a swtpm's --tpmstate dir=… still exists (a process gone meanwhile counts as ended). */
function stateDirExists(pid: string): boolean {
    try {
        const dir = /dir=([^\0]+)/.exec(fs.readFileSync(`/proc/${pid}/cmdline`, "latin1"))?.[1];
        return dir !== undefined && fs.existsSync(dir);
    } catch {
        return true;
    }
}

/** The pids of swtpm processes running now. */
function swtpms(): string[] {
    return fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p) && (() => {
        try {
            return fs.readFileSync(`/proc/${p}/comm`, "utf8").trim() === "swtpm";
        } catch {
            return false;
        }
    })());
}
