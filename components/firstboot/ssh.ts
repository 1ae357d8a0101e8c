// SSH into a booted guest as its user would: with the key the cloud gave it, through the
// forward on 127.0.0.1, never trusting or recording the guest's host key.
import { Exec, exec } from "./exec";
import * as fs from "fs";
import * as path from "path";

export interface SshTarget {
    readonly port: number;
    readonly user: string;
    /** The private key (its public half is what the cloud's mechanism gave the guest). */
    readonly key: string;
    /**
     * A socket path for one shared connection: the checks' commands ride the login's connection
     * (under TCG each new connection costs the guest seconds of key exchange and session setup).
     */
    readonly control?: string;
}

const OPTIONS = [
    "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR",
    "-o", "IdentitiesOnly=yes",
    "-o", "PasswordAuthentication=no",
    "-o", "ConnectTimeout=20",
];

// The shared connection ends 30 s after its last command, or with the guest.
const shared = (t: SshTarget) => (t.control ? ["-o", "ControlMaster=auto", "-o", `ControlPath=${t.control}`, "-o", "ControlPersist=30"] : []);

/** Runs one command in the guest (its stdin closed); a timeout kills ssh. */
export function ssh(t: SshTarget, command: string, timeoutSec = 120): Promise<Exec> {
    return exec("ssh", [...OPTIONS, ...shared(t), "-i", t.key, "-p", String(t.port), `${t.user}@127.0.0.1`, command], timeoutSec * 1000);
}

/** Ends the shared connection of `t`, if there is one. */
export async function closeShared(t: SshTarget): Promise<void> {
    if (t.control && fs.existsSync(t.control)) await exec("ssh", ["-o", `ControlPath=${t.control}`, "-O", "exit", "-p", String(t.port), `${t.user}@127.0.0.1`], 10_000);
}

// ssh's own failures (exit 255) that say sshd was not there to answer, as while the guest's
// first boot restarts it (cloud-init's config stage, a cloud agent), not that it refused us.
const NOT_ANSWERING = /kex_exchange_identification|Connection (reset|refused|closed)|Connection timed out|banner exchange/i;

/**
 * Runs one command in the guest like `ssh`; while sshd does not answer, tries again for at most
 * `absentSec` (then returns the last failure). A refusal, or the command's own exit, is final.
 */
export async function sshSteady(t: SshTarget, command: string, timeoutSec = 120, absentSec = 120): Promise<Exec & { retried: number }> {
    const started = Date.now();
    for (let retried = 0; ; retried++) {
        const r = await ssh(t, command, timeoutSec);
        if (r.code !== 255 || !NOT_ANSWERING.test(r.stderr) || Date.now() - started > absentSec * 1000) return { ...r, retried };
        await new Promise((res) => setTimeout(res, 3000));
    }
}

/**
 * Logs in, retrying while the guest finishes its first boot (the cloud's agent may add the key
 * a while after sshd answers), for at most `graceSec`. Returns the seconds it took, or throws
 * with the last refusal.
 */
export async function waitForLogin(t: SshTarget, graceSec: number): Promise<number> {
    const started = Date.now();
    let last: Exec | undefined;
    while (Date.now() - started < graceSec * 1000) {
        last = await ssh(t, "true", 60);
        if (last.code === 0) return (Date.now() - started) / 1000;
        await new Promise((r) => setTimeout(r, 5000));
    }
    throw new Error(`no login as ${t.user} with the test's key within ${graceSec} s after sshd answered: ${(last?.stderr ?? "").trim().split("\n").pop()}`);
}

/** A fresh ed25519 key pair for one test, in `dir`. */
export async function makeKey(dir: string): Promise<{ key: string; publicKey: string }> {
    const key = path.join(dir, "first-boot-key");
    const r = await exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "gold-first-boot-test", "-f", key]);
    if (r.code !== 0) throw new Error(`ssh-keygen exited ${r.code}: ${r.stderr}`);
    return { key, publicKey: fs.readFileSync(`${key}.pub`, "utf8").trim() };
}
