// Boots a disk image from ITS OWN bootloader (no -kernel) under QEMU (KVM when /dev/kvm is
// usable, TCG otherwise), on a throwaway qcow2 overlay so the artifact is never modified, and
// waits (bounded) for proof that the guest came up: a `login:` prompt on the serial console AND
// SSH host keys served on port 22 (the image ships none, so the guest generated them at first
// boot); then runs the caller's probe while the guest runs. The guest's network is QEMU's user
// network, restricted: it reaches only the addresses forwarded to this machine's loopback (the
// metadata servers a first-boot test plays), and SSH is forwarded from 127.0.0.1 only.
// QEMU is always killed: in `finally`, on process exit/SIGINT/SIGTERM, and by a detached
// watchdog if this process dies by SIGKILL.
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { exec } from "./exec";
import { freePort } from "./ports";

export type BootFormat = "qcow2" | "raw" | "vpc" | "vmdk" | "vdi" | "vhdx";
export type DiskBus = "virtio" | "scsi" | "ide" | "sata" | "nvme";

/** A guest address (in 168.0.0.0/7) whose TCP port is forwarded to a server on 127.0.0.1. */
export interface GuestForward {
    readonly ip: string;
    readonly port: number;
    /** The loopback port it reaches. */
    readonly to: number;
}

export interface BootOptions {
    readonly disk: string;
    readonly format: BootFormat | string;
    /** Upper bound for the whole boot (login prompt and host keys). */
    readonly timeoutSec: number;
    /** Serial console of the guest is written here (kept after the call, for the test's report). */
    readonly logFile: string;
    /** Disk controller (default virtio; "scsi" = virtio-scsi, "ide"/"sata" for images without virtio). */
    readonly bus?: DiskBus;
    /** NIC model (default virtio-net-pci; "e1000" for images without virtio). */
    readonly nic?: "virtio-net-pci" | "e1000";
    /** The NIC's MAC address (QEMU's default, 52:54:00:12:34:56, when absent). */
    readonly mac?: string;
    readonly memoryMiB?: number;
    /** Require the login prompt (default true). */
    readonly requireLogin?: boolean;
    /** Require SSH host keys (default true). */
    readonly requireSsh?: boolean;
    /** Seconds between ssh-keyscan attempts (default 3). */
    readonly keyscanIntervalSec?: number;
    /** Extra QEMU arguments (tests only). */
    readonly extraQemuArgs?: readonly string[];
    /** Called with the QEMU pid once started (the user's milestone; tests use the pid). */
    readonly onStart?: (info: { pid: number; overlay: string; port: number }) => void;
    /** SMBIOS tables, each a `-smbios` value (a cloud's identity), and the machine's UUID. */
    readonly smbios?: readonly string[];
    readonly uuid?: string;
    /** Guest addresses forwarded to servers on this machine (metadata services). */
    readonly forwards?: readonly GuestForward[];
    /** The host name QEMU's DHCP hands out. */
    readonly dhcpHostname?: string;
    /** ISO images attached as CD-ROMs (/dev/sr0, …): provisioning media. */
    readonly cdroms?: readonly string[];
    /** Runs once the guest is up, while it runs (its result is the result's `probe`). */
    readonly probe?: (sshPort: number) => Promise<unknown>;
    /** SeaBIOS (default) or OVMF: a q35 machine with UEFI firmware and NVRAM of its own. */
    readonly firmware?: "bios" | "uefi";
    /** OVMF with Microsoft's keys enrolled and Secure Boot on (a cloud's Secure Boot VM). */
    readonly secureBoot?: boolean;
    /** A TPM 2.0 (swtpm), as a vTPM. */
    readonly tpm?: boolean;
}

/** Debian's ovmf package: the firmware and the NVRAM template per kind of UEFI machine. */
export const OVMF = {
    dir: "/usr/share/OVMF",
    /** Plain UEFI: no keys, Secure Boot off. */
    plain: { code: "OVMF_CODE_4M.fd", vars: "OVMF_VARS_4M.fd" },
    /** Secure Boot: the SMM build (the variables cannot be changed from the guest) and Microsoft's keys. */
    secureBoot: { code: "OVMF_CODE_4M.secboot.fd", vars: "OVMF_VARS_4M.ms.fd" },
} as const;

/**
 * The firmware's arguments and what it needs started first: OVMF's code (read-only) and a copy of
 * its NVRAM template (each machine its own, empty of boot entries as a cloud's new VM), and
 * swtpm's socket when there is a TPM. Nothing for SeaBIOS.
 */
async function firmwareArgs(opts: BootOptions, work: string): Promise<{ args: string[]; tpm?: ChildProcess }> {
    if ((opts.firmware ?? "bios") === "bios") {
        if (opts.secureBoot || opts.tpm) throw new Error("Secure Boot and a TPM need firmware uefi");
        return { args: [] };
    }
    const kind = opts.secureBoot ? OVMF.secureBoot : OVMF.plain;
    const vars = path.join(work, "OVMF_VARS.fd");
    fs.copyFileSync(path.join(OVMF.dir, kind.vars), vars);
    const args = [
        // q35 with SMM: the Secure Boot build of OVMF runs its variable store in SMM.
        "-machine", `q35,smm=on,accel=${accelerator()}`,
        ...(opts.secureBoot ? ["-global", "driver=cfi.pflash01,property=secure,value=on"] : []),
        "-global", "ICH9-LPC.disable_s3=1",
        "-drive", `if=pflash,format=raw,unit=0,readonly=on,file=${path.join(OVMF.dir, kind.code)}`,
        "-drive", `if=pflash,format=raw,unit=1,file=${vars.replace(/,/g, ",,")}`,
    ];
    if (!opts.tpm) return { args };
    const state = path.join(work, "tpm");
    const socket = path.join(work, "tpm.sock");
    fs.mkdirSync(state);
    // --terminate: it ends when QEMU (its only client) goes away.
    const tpm = spawn("swtpm", ["socket", "--tpm2", "--tpmstate", `dir=${state}`, "--ctrl", `type=unixio,path=${socket}`, "--terminate"], { stdio: ["ignore", "ignore", "pipe"] });
    live.add(tpm);
    tpm.on("exit", () => live.delete(tpm));
    let stderr = "";
    tpm.stderr!.on("data", (d) => (stderr += d));
    await new Promise<void>((resolve, reject) => {
        tpm.once("error", reject);
        tpm.once("spawn", () => resolve());
    });
    for (let i = 0; !fs.existsSync(socket); i++) {
        if (tpm.exitCode !== null || tpm.signalCode !== null || i > 600) {
            await stopProcess(tpm);
            throw new Error(`swtpm did not start: ${stderr.trim() || `exit ${tpm.exitCode ?? tpm.signalCode}`}`);
        }
        await sleep(100);
    }
    args.push("-chardev", `socket,id=chrtpm,path=${socket}`, "-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device", "tpm-crb,tpmdev=tpm0");
    return { args, tpm };
}

export interface BootResult {
    /** Every required proof was seen before the timeout. */
    readonly booted: boolean;
    /** Seconds from QEMU start until all required proofs were seen (or until giving up). */
    readonly bootSeconds: number;
    readonly sawLogin: boolean;
    /** Seconds until the login prompt appeared, if it did. */
    readonly loginSeconds?: number;
    /** "type base64" lines from ssh-keyscan, sorted, deduplicated (a second, patient scan after boot). */
    readonly hostKeys: string[];
    /** Last ~4 KiB of the serial console. */
    readonly serialTail: string;
    /** Why it did not boot: "timeout", "qemu exited (code N)", "Secure Boot refused: <console line>", or "". */
    readonly reason: string;
    /** QEMU's own stderr (argument errors, port-forward failures). */
    readonly qemuStderr: string;
    readonly sshPort: number;
    /** What `probe` returned (when the guest came up and a probe was given). */
    readonly probe?: unknown;
}

/**
 * Why a boot failed for reasons of this machine, not of the image: QEMU killed by a signal (a
 * crash of the emulator), or its port forward not set up (a port taken). Undefined otherwise.
 */
export function infrastructureFailure(b: BootResult): string | undefined {
    if (b.booted) return undefined;
    if (/^qemu exited \(signal /.test(b.reason)) return b.reason;
    const port = /[^\n]*(Could not set up host forwarding rule|Address already in use)[^\n]*/.exec(b.qemuStderr);
    return port ? `qemu: ${port[0].trim()}` : undefined;
}

/** A getty prompt at the start of a line: "login:" or "<hostname> login:". */
const LOGIN_RE = /(^|[\r\n])(\x1b\[[0-9;]*[A-Za-z])*[\w.-]* ?login: ?/;

// What the firmware (OVMF: "Access Denied") or the shim ("Verification failed: (0x1A) Security
// Violation") prints when a signature does not verify: the machine will not boot, no need to wait.
// (Both draw boxes with cursor moves, not lines: the phrase alone is kept.)
const REFUSED_RE = /Verification failed: \(0x1A\) Security Violation|BdsDxe: failed to (load|start) Boot[0-9A-F]+[^\r\n\x1b]*: Access Denied/;

/** The console's words where Secure Boot refused an image, if it did. */
export function secureBootRefusal(serial: string): string | undefined {
    return REFUSED_RE.exec(serial)?.[0].trim();
}

/** True when the serial text shows a getty login prompt. */
export function sawLoginPrompt(serial: string): boolean {
    return LOGIN_RE.test(serial);
}

// ---- process hygiene: every QEMU started here is killed, whatever happens to this process ----

const live = new Set<ChildProcess>();
const workDirs = new Set<string>();
let hooksInstalled = false;

function killAllNow(): void {
    for (const c of live) {
        try {
            c.kill("SIGKILL");
        } catch {
            /* already gone */
        }
    }
    for (const d of workDirs) fs.rmSync(d, { recursive: true, force: true });
}

function installHooks(): void {
    if (hooksInstalled) return;
    hooksInstalled = true;
    process.on("exit", killAllNow);
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
        const handler = () => {
            killAllNow();
            // Keep the default behaviour (die by that signal) unless someone else handles it.
            if (process.listenerCount(sig) === 1) {
                process.removeListener(sig, handler);
                process.kill(process.pid, sig);
            }
        };
        process.on(sig, handler);
    }
}

/** Number of QEMU processes started by this module and still running (for tests). */
export function liveQemuCount(): number {
    return live.size;
}

/**
 * A detached shell that outlives us only to kill QEMU if this Node process dies without running
 * its exit hooks (SIGKILL, OOM). It checks /proc/<pid>/cmdline for the overlay path before
 * killing, so a reused pid is never hit, and it ends by itself when QEMU ends.
 */
function startWatchdog(qemuPid: number, overlay: string): ChildProcess {
    const script = `
p=${process.pid}; q=${qemuPid}; o="$1"
mine() { tr '\\0' '\\n' < /proc/$q/cmdline 2>/dev/null | grep -qF -- "$o"; }
while kill -0 $p 2>/dev/null && mine; do sleep 1; done
if mine; then kill -TERM $q 2>/dev/null; sleep 5; mine && kill -KILL $q 2>/dev/null; fi
if ! kill -0 $p 2>/dev/null; then d=$(dirname "$o"); case "$d" in */gold-boot-*) rm -rf "$d";; esac; fi
exit 0`;
    const w = spawn("/bin/sh", ["-c", script, "gold-qemu-watchdog", overlay], { detached: true, stdio: "ignore" });
    w.unref();
    return w;
}

async function stopProcess(child: ChildProcess, graceMs = 5000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await gone;
    clearTimeout(t);
}

// ---- helpers ----

export { freePort };



/**
 * Host keys served on 127.0.0.1:port, as sorted "type base64" lines ([] if none yet).
 * ssh-keyscan makes one connection (one key exchange) per key type, one after the other; under
 * TCG a key exchange can take seconds, so give `types` to scan a single type per process.
 */
export async function keyscan(port: number, timeoutSec = 5, types?: string): Promise<string[]> {
    const args = ["-T", String(timeoutSec), "-p", String(port), ...(types ? ["-t", types] : []), "127.0.0.1"];
    const r = await exec("ssh-keyscan", args, (timeoutSec * 4 + 10) * 1000);
    const keys = new Set<string>();
    for (const line of r.stdout.split("\n")) {
        const f = line.trim().split(/\s+/);
        if (f.length >= 3 && !line.startsWith("#")) keys.add(`${f[1]} ${f[2]}`);
    }
    return [...keys].sort();
}

function driveArgs(overlay: string, bus: DiskBus): string[] {
    const file = `file=${overlay.replace(/,/g, ",,")},format=qcow2`;
    switch (bus) {
        case "virtio":
            return ["-drive", `${file},if=virtio,cache=unsafe`];
        case "scsi":
            return ["-device", "virtio-scsi-pci,id=scsi0", "-drive", `${file},if=none,id=d0,cache=unsafe`, "-device", "scsi-hd,drive=d0,bus=scsi0.0,bootindex=0"];
        case "ide":
            return ["-drive", `${file},if=ide,cache=unsafe`];
        case "sata":
            return ["-device", "ahci,id=ahci0", "-drive", `${file},if=none,id=d0,cache=unsafe`, "-device", "ide-hd,drive=d0,bus=ahci0.0,bootindex=0"];
        case "nvme":
            return ["-drive", `${file},if=none,id=d0,cache=unsafe`, "-device", "nvme,drive=d0,serial=gold0,bootindex=0"];
    }
}

/**
 * QEMU's user network, restricted: DHCP, the SSH forward from 127.0.0.1, and each forward
 * (one relay process per connection: QEMU's `guestfwd=…-cmd:`). 168.0.0.0/7 holds both
 * 169.254.169.254 (instance metadata) and 168.63.129.16 (Azure's wire server).
 */
export function netdevArg(sshPort: number, forwards: readonly GuestForward[] = [], dhcpHostname?: string): string {
    const relay = (to: number) => `bash -c 'exec 3<>/dev/tcp/127.0.0.1/${to}; cat <&3 & exec cat >&3'`;
    return [
        "user,id=n0,net=168.0.0.0/7,restrict=on",
        ...(dhcpHostname ? [`hostname=${dhcpHostname}`] : []),
        `hostfwd=tcp:127.0.0.1:${sshPort}-:22`,
        ...forwards.map((f) => `guestfwd=tcp:${f.ip}:${f.port}-cmd:${relay(f.to)}`),
    ].join(",");
}

/** KVM when this machine can use it, else TCG (software emulation). */
export function accelerator(): string {
    try {
        fs.accessSync("/dev/kvm", fs.constants.R_OK | fs.constants.W_OK);
        return "kvm:tcg";
    } catch {
        return "tcg";
    }
}

function tail(file: string, bytes: number): string {
    try {
        const fd = fs.openSync(file, "r");
        try {
            const size = fs.fstatSync(fd).size;
            const len = Math.min(size, bytes);
            const buf = Buffer.alloc(len);
            fs.readSync(fd, buf, 0, len, size - len);
            return buf.toString("utf8");
        } finally {
            fs.closeSync(fd);
        }
    } catch {
        return "";
    }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Creates a qcow2 overlay backed by `disk`; writes go to the overlay, never to the disk. */
export async function createOverlay(disk: string, format: string, overlay: string): Promise<void> {
    const r = await exec("qemu-img", ["create", "-q", "-f", "qcow2", "-b", path.resolve(disk), "-F", format, overlay], 120_000);
    if (r.code !== 0) throw new Error(`qemu-img create overlay failed: ${r.stderr}`);
}

/**
 * Boots `disk` through its own bootloader (SeaBIOS -> GRUB's boot sector, or OVMF -> the ESP's
 * EFI/BOOT/BOOTX64.EFI; no -kernel) and probes it.
 * Never throws for a guest that does not boot: look at `booted`/`reason`/`serialTail`.
 * Throws only for host-side failures (qemu-img, spawn errors).
 */
export async function bootAndProbe(opts: BootOptions): Promise<BootResult> {
    installHooks();
    const requireLogin = opts.requireLogin ?? true;
    const requireSsh = opts.requireSsh ?? true;
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "gold-boot-"));
    workDirs.add(work);
    const overlay = path.join(work, "overlay.qcow2");
    fs.mkdirSync(path.dirname(path.resolve(opts.logFile)), { recursive: true });
    fs.writeFileSync(opts.logFile, "");
    let qemu: ChildProcess | undefined;
    let tpm: ChildProcess | undefined;
    let watchdog: ChildProcess | undefined;
    let qemuStderr = "";
    let port = 0;
    const started = Date.now();
    const elapsed = () => (Date.now() - started) / 1000;
    try {
        await createOverlay(opts.disk, opts.format, overlay);
        port = await freePort();
        const firmware = await firmwareArgs(opts, work);
        tpm = firmware.tpm;
        const args = [
            ...(firmware.args.length ? firmware.args : ["-machine", `accel=${accelerator()}`]),
            "-m", String(opts.memoryMiB ?? 1024),
            "-smp", "2",
            "-nographic",
            "-no-reboot",
            "-monitor", "none",
            "-serial", `file:${path.resolve(opts.logFile)}`,
            ...driveArgs(overlay, opts.bus ?? "virtio"),
            ...(opts.cdroms ?? []).flatMap((iso, i) => ["-drive", `file=${path.resolve(iso).replace(/,/g, ",,")},media=cdrom,if=ide,index=${2 + i},readonly=on`]),
            "-netdev", netdevArg(port, opts.forwards, opts.dhcpHostname),
            "-device", `${opts.nic ?? "virtio-net-pci"},netdev=n0${opts.mac ? `,mac=${opts.mac}` : ""}`,
            ...(opts.smbios ?? []).flatMap((t) => ["-smbios", t]),
            ...(opts.uuid ? ["-uuid", opts.uuid] : []),
            ...(opts.extraQemuArgs ?? []),
        ];
        const child = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "ignore", "pipe"] });
        qemu = child;
        live.add(child);
        let exited: string | undefined;
        child.on("exit", (code, sig) => {
            live.delete(child);
            exited = `qemu exited (${sig ? "signal " + sig : "code " + code})`;
        });
        child.stderr!.on("data", (d) => (qemuStderr += d));
        await new Promise<void>((resolve, reject) => {
            child.once("spawn", () => resolve());
            child.once("error", reject);
        });
        watchdog = startWatchdog(child.pid!, overlay);
        opts.onStart?.({ pid: child.pid!, overlay, port });

        const deadline = started + opts.timeoutSec * 1000;
        let sawLogin = false;
        let loginSeconds: number | undefined;
        let hostKeys: string[] = [];
        let nextScan = 0;
        const interval = (opts.keyscanIntervalSec ?? 3) * 1000;
        let reason = "timeout";
        let bootSeconds: number | undefined;
        while (Date.now() < deadline) {
            if (!sawLogin && sawLoginPrompt(tail(opts.logFile, 64 * 1024))) {
                sawLogin = true;
                loginSeconds = elapsed();
            }
            // A refusal first: the firmware may end QEMU (-no-reboot) right after it.
            const refused = opts.secureBoot ? secureBootRefusal(tail(opts.logFile, 64 * 1024)) : undefined;
            if (refused) {
                reason = `Secure Boot refused: ${refused}`;
                break;
            }
            if (exited) {
                reason = exited;
                break;
            }
            if (requireSsh && hostKeys.length === 0 && Date.now() >= nextScan) {
                const left = Math.max(1, Math.min(10, Math.floor((deadline - Date.now()) / 1000)));
                hostKeys = await keyscan(port, left);
                nextScan = Date.now() + interval;
            }
            if ((!requireLogin || sawLogin) && (!requireSsh || hostKeys.length > 0)) {
                reason = "";
                bootSeconds = elapsed();
                break;
            }
            await sleep(500);
        }
        // One last look at the console: the prompt may have arrived during the final keyscan.
        if (!sawLogin && sawLoginPrompt(tail(opts.logFile, 64 * 1024))) {
            sawLogin = true;
            loginSeconds = elapsed();
            if (reason === "timeout" && (!requireSsh || hostKeys.length > 0)) {
                reason = "";
                bootSeconds = loginSeconds;
            }
        }
        const booted = reason === "";
        if (booted && requireSsh) {
            // ssh-keyscan makes one connection per key type; under TCG one of them may miss its
            // timeout while sshd is still warming up: scan once more, patiently, and merge.
            const more = await Promise.all(["rsa", "ecdsa", "ed25519"].map((t) => keyscan(port, 30, t)));
            hostKeys = [...new Set([...hostKeys, ...more.flat()])].sort();
        }
        const probe = booted && opts.probe ? await opts.probe(port) : undefined;
        return {
            probe,
            booted,
            bootSeconds: bootSeconds ?? elapsed(),
            sawLogin,
            loginSeconds,
            hostKeys,
            serialTail: tail(opts.logFile, 4096),
            reason,
            qemuStderr,
            sshPort: port,
        };
    } finally {
        if (qemu) {
            await stopProcess(qemu);
            live.delete(qemu);
        }
        if (tpm) {
            await stopProcess(tpm);
            live.delete(tpm);
        }
        if (watchdog?.pid) {
            try {
                process.kill(watchdog.pid, "SIGKILL");
            } catch {
                /* already gone */
            }
        }
        fs.rmSync(work, { recursive: true, force: true });
        workDirs.delete(work);
    }
}

// ---- artifacts that wrap a disk ----

export type ArtifactKind = "raw-tar" | "ova" | "box";

export interface ExtractedDisk {
    readonly path: string;
    /** Format to give QEMU/libguestfs: raw for GCP, vmdk for OVA and box. */
    readonly format: "raw" | "vmdk";
    /** Archive members in order, as `tar -t` lists them. */
    readonly members: string[];
}

async function tarList(archive: string): Promise<string[]> {
    const r = await exec("tar", ["-tf", archive], 600_000);
    if (r.code !== 0) throw new Error(`tar -tf ${archive} failed: ${r.stderr}`);
    return r.stdout.split("\n").filter((l) => l.length > 0);
}

/**
 * Pulls the disk out of an artifact with GNU tar (which restores sparse members sparse and
 * detects gzip by itself): GCP tar.gz -> disk.raw; OVA -> its .vmdk; Vagrant .box -> its .vmdk.
 */
export async function extractDisk(artifact: string, kind: ArtifactKind, dir: string): Promise<ExtractedDisk> {
    const members = await tarList(artifact);
    const base = (m: string) => m.replace(/^(\.\/)+/, "");
    let member: string | undefined;
    let format: "raw" | "vmdk";
    if (kind === "raw-tar") {
        member = members.find((m) => base(m) === "disk.raw");
        format = "raw";
        if (!member) throw new Error(`${artifact}: no disk.raw member (members: ${members.join(", ")})`);
    } else {
        const vmdks = members.filter((m) => /\.vmdk$/i.test(m));
        if (vmdks.length !== 1) throw new Error(`${artifact}: expected exactly one .vmdk member, found ${vmdks.length} (members: ${members.join(", ")})`);
        member = vmdks[0];
        format = "vmdk";
    }
    fs.mkdirSync(dir, { recursive: true });
    const r = await exec("tar", ["-x", "-S", "-f", artifact, "-C", dir, member], 1_800_000);
    if (r.code !== 0) throw new Error(`tar -xf ${artifact} ${member} failed: ${r.stderr}`);
    return { path: path.join(dir, member), format, members };
}
