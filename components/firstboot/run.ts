// The first-boot test of one artifact, as its cloud would start it: the converted artifact that
// will be published boots on a copy-on-write overlay (it is never changed), the provider's
// mechanism gives it a key made for this test only, the way that cloud does, and the user logs
// in and runs the provider's contract. A container image runs under a real container runtime.
// Its milestones are told to `log` as they happen (media attached, QEMU started, the metadata's
// first request, up, logged in, each check): a boot under emulation takes minutes.
import { randomBytes, randomUUID } from "crypto";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { Log, formatDuration } from "../progress";
import type { ArtifactFormat } from "../providers/provider";
import { TestedImage, runContainer } from "./container";
import type { Driver } from "../recipe/os";
import { bootChecks, driverChecks } from "./boot-checks";
import { BIOS, Baked, BootMode, Check, CheckResult, FirstBoot, Guest, Played, VmFirstBoot, bootName, reply, runCheckList, tellCheck } from "./mechanism";
import { ImageFacts, keyBody, offlineChecks } from "./offline";
import { SshTarget, closeShared, makeKey, sshSteady, waitForLogin } from "./ssh";
import { ArtifactKind, BootResult, DiskBus, OVMF, accelerator, bootAndProbe, extractDisk, infrastructureFailure } from "./vm";
import { UefiVariable, readVarStore, secureBootVariables } from "./uefi-vars";

export type { CheckResult } from "./mechanism";

export interface FirstBootOptions {
    readonly provider: string;
    readonly firstBoot: FirstBoot;
    /** The converted artifact, as it will be published. */
    readonly artifact: string;
    readonly format: ArtifactFormat;
    /** The user cloud-init makes on this OS (OS file's cloud_user); tried in turn when several. */
    readonly defaultUsers: readonly string[];
    /** The OS's AMI requires IMDSv2 tokens (OS file's imds_v2). */
    readonly imdsV2Only: boolean;
    /** The ways of its cloud to boot it (the mechanism's `ways`; default every one). */
    readonly ways?: readonly string[];
    /** How its cloud boots the image (the provider's `boot` for this OS; default BIOS). */
    readonly boot?: BootMode;
    /** The drivers the OS's kernel has (its OS file's kernel_drivers; default: none checked). */
    readonly kernelDrivers?: readonly Driver[];
    /** The build key's public half: it must be nowhere in the image. */
    readonly buildKey: string;
    /** A container image's Dockerfile (the one the publisher builds with). */
    readonly dockerfile?: string;
    /** Where the serial console log goes. */
    readonly serialLog: string;
    /** Where the tested container image is saved for its publisher (TESTED_ARCHIVE), when it passes. */
    readonly keep?: string;
    /** Upper bound of the boot (to sshd answering); the login grace is the mechanism's. */
    readonly bootTimeoutSec?: number;
    /** Told each milestone as it happens. */
    readonly log?: Log;
}

export interface FirstBootResult {
    readonly ok: boolean;
    readonly provider: string;
    /** How the user got in: the cloud's mechanism, the user, the runtime. */
    readonly login: string;
    readonly checks: CheckResult[];
    /** What failed: the first failed check, or why there was no login ("infrastructure: …" when this machine failed twice). */
    readonly failure?: string;
    /** A failure of this machine (QEMU crashed, a port taken) that cost a boot: never a pass by itself. */
    readonly infrastructure?: string;
    readonly seconds: number;
    /** The tested container image: its id (its config's digest) and its tag in the archive saved for the publisher. */
    readonly image?: TestedImage;
    /** How the machine booted: firmware, Secure Boot, TPM, disk controller. */
    readonly boot?: BootMode & { readonly bus: DiskBus };
    /** Drivers its cloud's machines need that the OS's kernel lacks: the cloud's flag is off for the image. */
    readonly driversMissing?: readonly Driver[];
    /** The Secure Boot variables its NVRAM started with, where the cloud registers them with the image. */
    readonly secureBootKeys?: readonly UefiVariable[];
}

/**
 * Checks every cloud machine passes: what the image promises, seen from inside a fresh one and
 * compared with what the image held before its boot (`image`, read offline).
 */
function commonChecks(played: Played, guest: Guest, buildKey: string, image: ImageFacts, baked: Baked): Check[] {
    const body = keyBody(buildKey);
    const mine = keyBody(guest.publicKey);
    // Keys that may let someone in: the test's own (the cloud gave it) and the cloud's convention.
    const allowed = [mine, ...(baked.keys ?? [])].filter(Boolean);
    const sudoUsers = [played.user, ...(baked.nopasswdUsers ?? []), ...(played.sudoGroups ?? []).map((g) => `%${g}`)];
    const checks: Check[] = [
        {
            name: "new SSH host keys, made at this boot (none of the image's)",
            run: `ls /etc/ssh/ssh_host_*_key.pub >/dev/null${image.hostKeys.map((k) => ` && ! grep -qF ${shq(k)} /etc/ssh/ssh_host_*_key.pub`).join("")}`,
        },
        {
            name: "a machine-id of its own (not the image's)",
            run: `[ -s /etc/machine-id ] && ! grep -qx uninitialized /etc/machine-id${image.machineId ? ` && ! grep -qxF ${shq(image.machineId)} /etc/machine-id` : ""}`,
        },
        { name: "no user with a password (root's locked)", run: "u=$(awk -F: '$2 !~ /^[!*]/ { print $1 }' /etc/shadow); [ -z \"$u\" ] || { echo \"password users: $u\"; exit 1; }" },
        {
            name: "sshd: keys only (no password or keyboard-interactive login), root by key at most, no AuthorizedKeysCommand",
            run:
                "t=$(sshd -T 2>&1) || { echo \"$t\"; exit 1; }; echo \"$t\" | grep -Ei '^(passwordauthentication|kbdinteractiveauthentication|challengeresponseauthentication|permitrootlogin|authorizedkeyscommand) '; " +
                "echo \"$t\" | grep -qix 'passwordauthentication no' && ! echo \"$t\" | grep -Eqix '(kbdinteractiveauthentication|challengeresponseauthentication) yes' && " +
                "echo \"$t\" | grep -Eqix 'permitrootlogin (no|prohibit-password|without-password)' && ! echo \"$t\" | grep -Ei '^authorizedkeyscommand ' | grep -viq ' none$'",
        },
        {
            // Every home's authorized_keys (the AuthorizedKeysFile default), root's included.
            name: "only the key the cloud gave lets anyone in (every authorized_keys)",
            run:
                `k=$(getent passwd | cut -d: -f6 | sort -u | while read -r h; do for f in "$h/.ssh/authorized_keys" "$h/.ssh/authorized_keys2"; do [ -f "$f" ] && grep -Ev '^[[:space:]]*(#|$)' "$f" | sed "s|^|$f: |"; done; done` +
                ` | grep -vF${allowed.map((a) => ` -e ${shq(a)}`).join("")}); [ -z "$k" ] || { echo "$k" | cut -c1-200; exit 1; }`,
        },
        {
            name: `no passwordless sudo but the cloud user's (${sudoUsers.join(", ")})`,
            run: `l=$(cat /etc/sudoers /etc/sudoers.d/* 2>/dev/null | grep -Ev '^[[:space:]]*(#|Defaults)' | grep -E 'NOPASSWD[[:space:]]*:' | grep -Ev '^[[:space:]]*(${sudoUsers.map((u) => u.replace(/[^A-Za-z0-9_%-]/g, "")).join("|")})[[:space:]]'); [ -z "$l" ] || { echo "$l"; exit 1; }`,
        },
        {
            // The whole file system but the kernel's, /usr and /boot (packages' files, no keys).
            name: "no build key anywhere",
            run: `f=$(grep -rlIsF --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev --exclude-dir=run --exclude-dir=usr --exclude-dir=boot ${shq(body)} /); [ -z "$f" ] || { echo "$f"; exit 1; }`,
        },
    ];
    if (played.setsHostname) checks.push({ name: `the hostname from the metadata (${guest.hostname})`, run: `[ "$(hostname -s)" = ${shq(guest.hostname.split(".")[0])} ]` });
    return checks;
}

/** A check that passes when `c` fails (a negative control, run in the same machine). */
export function control(c: Check): Check {
    const not = (cmd: string) => `if ( ${cmd} ) >/dev/null 2>&1; then echo 'passed, but must fail here'; exit 1; fi`;
    return { name: `control: "${c.name}" fails here`, run: typeof c.run === "string" ? not(c.run) : { Debian: not(c.run.Debian), RedHat: not(c.run.RedHat) } };
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

// Every machine image is entered by SSH (the unit's name differs by OS family).
const SSHD = ["ssh.service", "sshd.service"];

/** The disk inside an artifact and its format (an archive's disk is extracted into `work`). */
async function diskOf(artifact: string, format: ArtifactFormat, work: string, log?: Log): Promise<{ path: string; format: string }> {
    const extract = (kind: ArtifactKind) => {
        // A disk of gigabytes out of a tar.gz: minutes.
        log?.(`extracting the disk from ${path.basename(artifact)}`);
        return extractDisk(artifact, kind, work);
    };
    switch (format) {
        case "vhd":
        case "vhd-fixed":
            return { path: artifact, format: "vpc" };
        case "qcow2":
            return { path: artifact, format: "qcow2" };
        case "raw-tar":
        case "ova":
        case "box":
            return extract(format);
        case "rootfs":
            throw new Error("a root file system is a container image, not a disk");
    }
}

/**
 * Serves each service on 127.0.0.1 (a free port); returns the guest forwards and a closer. Each
 * service's first request is told to `log`: the guest's cloud-init (or agent) has started. A
 * service that breaks (its handler throws, its server fails) is a fault of this machine's played
 * cloud, not of the image: the guest gets a 500, and `takeFault` tells it (once) to the caller.
 */
export async function servePlayed(played: Played, log?: Log) {
    const servers: http.Server[] = [];
    const forwards = [];
    let fault: string | undefined;
    for (const s of played.services ?? []) {
        let asked = false;
        const where = `the played metadata service ${s.ip}:${s.port}`;
        const server = http.createServer((req, res) => {
            if (!asked) {
                asked = true;
                log?.(`metadata service ${s.ip}:${s.port}: first request (${req.method} ${String(req.url).slice(0, 100)})`);
            }
            try {
                s.handler(req, res);
            } catch (e) {
                fault ??= `${where} failed (${req.method} ${String(req.url).slice(0, 100)}: ${(e as Error).message})`;
                if (!res.headersSent) reply(res, 500, "");
                else res.destroy();
            }
        });
        server.on("error", (e) => (fault ??= `${where} failed: ${e.message}`));
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        servers.push(server);
        forwards.push({ ip: s.ip, port: s.port, to: (server.address() as AddressInfo).port });
    }
    const close = () => Promise.all(servers.map((s) => new Promise((r) => (s.closeAllConnections(), s.close(r)))));
    const takeFault = () => {
        const f = fault;
        fault = undefined;
        return f;
    };
    return { forwards, close, takeFault };
}

async function runChecks(t: SshTarget, checks: readonly Check[], log?: Log): Promise<CheckResult[]> {
    const inGuest = async (command: string, timeoutSec: number) => {
        const r = await sshSteady(t, command, timeoutSec);
        if (r.retried) log?.(`sshd did not answer for a while (${r.retried} tries): the guest restarted it during its first boot`);
        return r;
    };
    const probe = await inGuest("test -f /etc/debian_version; echo $?", 120);
    if (probe.code !== 0) throw new Error(`the guest stopped answering SSH after the login (exit ${probe.code}): ${probe.stderr.trim().split("\n").pop()}`);
    const family = probe.stdout.trim() === "0" ? "Debian" : "RedHat";
    return runCheckList(checks, family, async (command) => {
        const r = await inGuest(`sudo -n sh -c ${shq(command)}`, 300);
        return { code: r.code, out: `${r.stdout}${r.stderr}` };
    }, log);
}

async function vmFirstBoot(o: FirstBootOptions, fb: VmFirstBoot, work: string, started: number): Promise<FirstBootResult> {
    const log = o.log;
    const { key, publicKey } = await makeKey(work);
    const disk = await diskOf(o.artifact, o.format, work, log);
    await fb.checkArtifact?.(o.artifact, work);
    log?.("reading the image before its first boot (libguestfs, read-only)");
    // An image libguestfs cannot read (no OS found, a broken file system) is refused too.
    const baked = fb.baked ?? {};
    const { checks: offline, facts } = await offlineChecks(disk.path, disk.format, o.buildKey, baked, [SSHD, ...(fb.wayIn ?? [])]).catch((e: Error) => ({
        checks: [{ name: "offline: the image can be read (an OS on it)", ok: false, detail: e.message.trim().split("\n").slice(0, 2).join(" ") }],
        facts: { hostKeys: [], machineId: "" },
    }));
    for (const c of offline) tellCheck(c, log);
    const bad = offline.find((c) => !c.ok);
    // What every machine made from it would share: no boot needed to refuse it.
    if (bad) return { ok: false, provider: o.provider, login: "none (refused before booting)", checks: offline, failure: `check failed: ${bad.name}: ${bad.detail}`, seconds: (Date.now() - started) / 1000 };
    const ways = o.ways ?? fb.ways ?? [undefined];
    // No boot is no test: never a pass.
    if (ways.length === 0) throw new Error(`${o.provider}: no way of its cloud to boot it (ways is empty)`);
    const booted: FirstBootResult[] = [];
    // Each way the image must support is a machine of its own; the first that fails ends the test.
    for (const way of ways) {
        if (way) log?.(`the cloud's way to boot: ${way}${ways.length > 1 ? ` (${booted.length + 1} of ${ways.length})` : ""}`);
        // The first way's console is serial.log (the one a stage's progress shows); the others' beside it.
        const serialLog = booted.length === 0 ? o.serialLog : o.serialLog.replace(/(\.log)?$/, `-${way}.log`);
        const r = await bootOneWay(o, fb, { work, disk, key, publicKey, facts, baked, started, serialLog }, way);
        const named = ways.length > 1 && way ? r.checks.map((c) => ({ ...c, name: `${way}: ${c.name}` })) : r.checks;
        booted.push({ ...r, checks: named, failure: r.failure && ways.length > 1 ? `${way}: ${r.failure}` : r.failure });
        if (!r.ok) break;
    }
    const failed = booted.find((r) => !r.ok);
    const infrastructure = booted.map((r) => r.infrastructure).filter(Boolean).join("; ");
    return {
        ok: !failed,
        provider: o.provider,
        login: booted.map((r) => r.login).join("; "),
        checks: [...offline, ...booted.flatMap((r) => r.checks)],
        failure: failed?.failure,
        seconds: (Date.now() - started) / 1000,
        boot: booted[0]?.boot,
        ...(booted[0]?.driversMissing ? { driversMissing: booted[0].driversMissing } : {}),
        ...(booted[0]?.secureBootKeys ? { secureBootKeys: booted[0].secureBootKeys } : {}),
        ...(infrastructure ? { infrastructure } : {}),
    };
}

/** What the boots of one image share: the test's key, the image's facts read offline. */
interface Prepared {
    readonly work: string;
    readonly disk: { readonly path: string; readonly format: string };
    /** This boot's serial console log. */
    readonly serialLog: string;
    readonly key: string;
    readonly publicKey: string;
    readonly facts: ImageFacts;
    readonly baked: Baked;
    readonly started: number;
}

/** The Secure Boot variables a Secure Boot machine's NVRAM starts with (a copy of OVMF's store with Microsoft's keys). */
function startingKeys(): UefiVariable[] {
    const file = path.join(OVMF.dir, OVMF.secureBoot.vars);
    return secureBootVariables(readVarStore(fs.readFileSync(file), file), file);
}

/** One boot of the image, its cloud played one way: login as the cloud's user, the checks. */
async function bootOneWay(o: FirstBootOptions, fb: VmFirstBoot, p: Prepared, way: string | undefined): Promise<FirstBootResult> {
    const log = o.log;
    const { work, disk, key, publicKey, facts, baked, started, serialLog } = p;
    const suffix = randomBytes(3).toString("hex");
    let result: FirstBootResult | undefined;
    for (const user of o.defaultUsers) {
        const guest: Guest = {
            publicKey,
            hostname: `gold-fb-${suffix}.example.internal`,
            instanceId: `i-${randomBytes(8).toString("hex")}`,
            uuid: randomUUID(),
            work,
            defaultUser: user,
            imdsV2Only: o.imdsV2Only,
            // Locally administered, unicast (0x02 set, 0x01 clear), as EC2's are.
            mac: ["0e", ...randomBytes(5).toString("hex").match(/../g)!].join(":"),
        };
        const played = await fb.play(guest, way);
        if (played.cdroms?.length) log?.(`provisioning media attached: ${played.cdroms.map((c) => path.basename(c)).join(", ")}`);
        const { forwards, close, takeFault } = await servePlayed(played, log);
        try {
            const target: SshTarget = { port: 0, user: played.user, key: played.key ?? key };
            const timeoutSec = o.bootTimeoutSec ?? 900;
            const mode = o.boot ?? BIOS;
            const bus = mode.firmware === "uefi" ? (fb.uefiBus ?? fb.bus) : fb.bus;
            const how = bootChecks(mode, bus);
            const drivers = driverChecks(fb.drivers ?? [], o.kernelDrivers ?? []);
            let qemuAt = Date.now();
            const bootOnce = () => bootAndProbe({
                disk: disk.path,
                format: disk.format,
                bus,
                firmware: mode.firmware,
                secureBoot: mode.secureBoot,
                tpm: mode.tpm,
                timeoutSec,
                logFile: serialLog,
                requireLogin: false,
                smbios: played.smbios,
                uuid: played.uuid ?? guest.uuid,
                forwards,
                cdroms: played.cdroms,
                dhcpHostname: played.dhcpHostname,
                mac: guest.mac,
                onStart: ({ port }) => {
                    qemuAt = Date.now();
                    log?.(`QEMU started (${accelerator()}, ${bootName(mode)}, ${bus} disk, SSH forward 127.0.0.1:${port}); waiting for a login prompt and SSH host keys, at most ${formatDuration(timeoutSec)}`);
                },
                probe: async (port) => {
                    log?.(`up after ${formatDuration((Date.now() - qemuAt) / 1000)}: login prompt and SSH host keys; logging in as ${played.user} (${played.login})`);
                    const t = { ...target, port, control: path.join(work, `ssh-${port}`) };
                    try {
                        const seconds = await waitForLogin(t, fb.graceSec);
                        log?.(`logged in as ${played.user} with the test's key, ${formatDuration(seconds)} after sshd answered`);
                    } catch (e) {
                        log?.(`no login as ${played.user} within ${formatDuration(fb.graceSec)}`);
                        return { failure: (e as Error).message };
                    }
                    try {
                        const inGuest = await runChecks(t, [...commonChecks(played, guest, o.buildKey, facts, baked), ...fb.contract, ...how.checks, ...drivers.checks, ...(played.checks ?? []), ...[...how.controls, ...(played.controls ?? [])].map(control)], log);
                        const onHost = (await played.hostChecks?.()) ?? [];
                        for (const c of onHost) tellCheck(c, log);
                        return { checks: [...inGuest, ...onHost] };
                    } catch (e) {
                        return { failure: (e as Error).message };
                    } finally {
                        await closeShared(t);
                    }
                },
            });
            // A crash of this machine's QEMU, a taken port or a played service that broke is no
            // verdict on the image: once more.
            const machineFault = (b: BootResult) => infrastructureFailure(b) ?? takeFault();
            let boot = await bootOnce();
            let infrastructure = machineFault(boot);
            let twice: string | undefined;
            if (infrastructure) {
                log?.(`infrastructure: ${infrastructure}: booting once more (not a verdict on the image)`);
                boot = await bootOnce();
                twice = machineFault(boot);
                infrastructure = twice ? `${infrastructure}, then ${twice}` : `${infrastructure} (the second boot went on)`;
            }
            const probe = boot.probe as { failure?: string; checks?: CheckResult[] } | undefined;
            const checks = probe?.checks ?? [];
            const failed = checks.find((c) => !c.ok);
            const failure = twice
                ? `infrastructure: ${infrastructure}; serial console: ${serialLog}`
                : !boot.booted
                ? `the guest did not come up (${boot.reason}); serial console: ${serialLog}`
                : (probe?.failure ?? (failed && `check failed: ${failed.name}: ${failed.detail}`));
            result = {
                ok: !failure,
                provider: o.provider,
                login: `${played.login} → ${played.user}`,
                checks,
                failure,
                seconds: (Date.now() - started) / 1000,
                boot: { ...mode, bus },
                ...(drivers.missing.length && o.kernelDrivers ? { driversMissing: drivers.missing } : {}),
                ...(mode.secureBoot && fb.registersSecureBootKeys ? { secureBootKeys: startingKeys() } : {}),
                ...(infrastructure ? { infrastructure } : {}),
            };
        } finally {
            await close();
        }
        // Another candidate user only when this one could not log in at all.
        if (result.ok || result.checks.length > 0 || !/no login as/.test(result.failure ?? "")) break;
    }
    return result!;
}


/** Runs the first-boot test of one artifact; never throws for an image that fails (see `ok`). */
export async function firstBoot(o: FirstBootOptions): Promise<FirstBootResult> {
    const started = Date.now();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "gold-first-boot-"));
    try {
        if (o.firstBoot.kind === "container") {
            if (!o.dockerfile) throw new Error(`${o.provider}: the Dockerfile the publisher builds with is needed to test its image`);
            const r = await runContainer(o.artifact, o.dockerfile, o.firstBoot, work, o.log, o.keep);
            const failed = r.checks.find((c) => !c.ok);
            return { ok: !failed, provider: o.provider, login: r.login, checks: r.checks, failure: failed && `check failed: ${failed.name}: ${failed.detail}`, seconds: (Date.now() - started) / 1000, image: r.image };
        }
        return await vmFirstBoot(o, o.firstBoot, work, started);
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}
