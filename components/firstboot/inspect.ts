// Offline inspection of a disk image with libguestfs, independent of the code that built it.
// ONE guestfish process per call: the appliance start is the slow part (10-40 s under TCG), so
// every read is batched in one script (files a glob finds are read in the same session, after
// the glob's answer). Each file is emitted as base64 between random markers,
// so no file content can be mistaken for a delimiter.
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as path from "node:path";

export type DiskFormat = "qcow2" | "raw" | "vpc" | "vmdk" | "vdi" | "vhdx";

export interface InspectOptions {
    /** Extra guest paths to read; absent files are null in `files`. */
    readonly files?: readonly string[];
    /** Extra guest globs to expand (e.g. "/boot/vmlinuz-*"), results in `globs`. */
    readonly globs?: readonly string[];
    /** Also read every file the extra globs found (same session); contents in `files`. */
    readonly readGlobbed?: boolean;
    /**
     * Mount these instead of libguestfs inspection (`-i`), as guestfish `-m` arguments,
     * e.g. ["/dev/sda2:/", "/dev/sda1:/boot"]. Needed when libguestfs does not recognise the OS.
     */
    readonly mounts?: readonly string[];
    /** Kill guestfish after this many seconds (default 600). */
    readonly timeoutSec?: number;
}

export interface ImageInspection {
    /** Guest paths matching /etc/ssh/ssh_host_*, sorted (must be empty for a shippable image). */
    readonly sshHostKeys: string[];
    /** Content of /etc/machine-id ("" if absent; must be empty or "uninitialized" for an image). */
    readonly machineId: string;
    readonly machineIdExists: boolean;
    /** Content of /root/.ssh/authorized_keys, "" when absent. */
    readonly rootAuthorizedKeys: string;
    readonly rootAuthorizedKeysExists: boolean;
    /** /etc/shadow ("" if absent). */
    readonly shadow: string;
    /** Field 2 of root's line in /etc/shadow; locked when it starts with "!" or "*". null: no root line. */
    readonly rootPasswordField: string | null;
    /** Content of /etc/os-release ("" if absent; follows the /usr/lib/os-release symlink). */
    readonly osRelease: string;
    /** /etc/os-release parsed into KEY -> value (quotes removed). */
    readonly osReleaseFields: Record<string, string>;
    /** The requested extra files: content, or null if absent. */
    readonly files: Record<string, string | null>;
    /** The requested extra globs, expanded and sorted. */
    readonly globs: Record<string, string[]>;
    /** Seconds the guestfish process took (appliance start included). */
    readonly seconds: number;
}

/** True when a shadow password field means "no password login" (locked or no password set). */
export function isLockedPasswordField(field: string | null): boolean {
    return field !== null && (field.startsWith("!") || field.startsWith("*"));
}

export function parseOsRelease(text: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of text.split("\n")) {
        const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
        if (!m) continue;
        let v = m[2];
        if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1).replace(/\\(["\\$`])/g, "$1");
        out[m[1]] = v;
    }
    return out;
}

export function rootShadowField(shadow: string): string | null {
    for (const line of shadow.split("\n")) {
        const f = line.split(":");
        if (f[0] === "root") return f[1] ?? "";
    }
    return null;
}

function quote(p: string): string {
    // guestfish arguments: double quotes with backslash escapes.
    if (/[\n\r]/.test(p)) throw new Error(`unsupported path: ${JSON.stringify(p)}`);
    return `"${p.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** Builds the guestfish script; exported for the unit test of the parser. */
export function buildScript(marker: string, files: readonly string[], globs: readonly string[]): string {
    const lines: string[] = [];
    files.forEach((f, i) => {
        lines.push(`echo ${marker}:file:${i}:exists`);
        lines.push(`exists ${quote(f)}`);
        // `-` prefix: keep going if the file is absent or unreadable (exists already says so).
        lines.push(`echo ${marker}:file:${i}:data`);
        lines.push(`-base64-out ${quote(f)} -`);
        lines.push(`echo ${marker}:file:${i}:end`);
    });
    globs.forEach((g, i) => {
        lines.push(`echo ${marker}:glob:${i}:begin`);
        // glob-expand-opts directorynoslash keeps the paths as given; glob-expand is fine too.
        lines.push(`-glob-expand ${quote(g)}`);
        lines.push(`echo ${marker}:glob:${i}:end`);
    });
    lines.push(`echo ${marker}:done`);
    return lines.join("\n") + "\n";
}

export interface ParsedOutput {
    files: (string | null)[];
    globs: string[][];
}

export function parseOutput(stdout: string, marker: string, nFiles: number, nGlobs: number): ParsedOutput {
    if (!stdout.includes(`${marker}:done`)) throw new Error("guestfish output is incomplete (no end marker)");
    const section = (begin: string, end: string): string => {
        const a = stdout.indexOf(begin + "\n");
        const b = stdout.indexOf(end + "\n", a);
        if (a < 0 || b < 0) throw new Error(`guestfish output lacks ${begin}`);
        return stdout.slice(a + begin.length + 1, b);
    };
    const files: (string | null)[] = [];
    for (let i = 0; i < nFiles; i++) {
        const ex = section(`${marker}:file:${i}:exists`, `${marker}:file:${i}:data`).trim();
        if (ex !== "true" && ex !== "false") throw new Error(`unexpected exists output for file ${i}: ${ex}`);
        const data = section(`${marker}:file:${i}:data`, `${marker}:file:${i}:end`).replace(/\s+/g, "");
        files.push(ex === "true" ? Buffer.from(data, "base64").toString("utf8") : null);
    }
    const globs: string[][] = [];
    for (let i = 0; i < nGlobs; i++) {
        const body = section(`${marker}:glob:${i}:begin`, `${marker}:glob:${i}:end`);
        globs.push(body.split("\n").map((l) => l.trim()).filter((l) => l.length > 0).sort());
    }
    return { files, globs };
}

const FIXED_FILES = ["/etc/machine-id", "/root/.ssh/authorized_keys", "/etc/shadow", "/etc/os-release"];
const SSH_GLOB = "/etc/ssh/ssh_host_*";

/**
 * Reads a disk image offline (read-only: the image is never modified) in one guestfish run.
 * `format` is passed to libguestfs explicitly (a fixed VHD is "vpc", not raw).
 */
export async function inspectImage(disk: string, format: DiskFormat | string, opts: InspectOptions = {}): Promise<ImageInspection> {
    const marker = `@@GOLD-${crypto.randomBytes(8).toString("hex")}@@`;
    const extraFiles = opts.files ?? [];
    const extraGlobs = opts.globs ?? [];
    const files = [...FIXED_FILES, ...extraFiles];
    const globs = [SSH_GLOB, ...extraGlobs];
    const args = ["--ro", "--format=" + format, "-a", path.resolve(disk)];
    if (opts.mounts?.length) for (const m of opts.mounts) args.push("-m", m);
    else args.push("-i");
    const started = Date.now();
    // The second part: what the globs found, known once the first part's answer is in.
    const second = `@@GOLD-${crypto.randomBytes(8).toString("hex")}@@`;
    let found: string[] = [];
    const next = opts.readGlobbed
        ? (out: string) => {
              found = [...new Set(parseOutput(out, marker, files.length, globs.length).globs.slice(1).flat())].sort();
              return buildScript(second, found, []);
          }
        : undefined;
    const r = await runGuestfish(args, buildScript(marker, files, globs), (opts.timeoutSec ?? 600) * 1000, next && { marker: `${marker}:done\n`, next });
    const seconds = (Date.now() - started) / 1000;
    const complete = r.stdout.includes(`${marker}:done`) && (!next || r.stdout.includes(`${second}:done`));
    if (r.code !== 0 && !complete) {
        throw new Error(`guestfish ${args.join(" ")} failed (exit ${r.code}${r.timedOut ? ", timed out" : ""}):\n${r.stderr.slice(-4000)}`);
    }
    const parsed = parseOutput(r.stdout, marker, files.length, globs.length);
    const [machineId, authorized, shadow, osRelease] = parsed.files;
    const fileMap: Record<string, string | null> = {};
    extraFiles.forEach((f, i) => (fileMap[f] = parsed.files[FIXED_FILES.length + i]));
    if (next) {
        const more = parseOutput(r.stdout.slice(r.stdout.indexOf(`${marker}:done`)), second, found.length, 0);
        found.forEach((f, i) => (fileMap[f] = more.files[i]));
    }
    const globMap: Record<string, string[]> = {};
    extraGlobs.forEach((g, i) => (globMap[g] = parsed.globs[1 + i]));
    return {
        sshHostKeys: parsed.globs[0],
        machineId: machineId ?? "",
        machineIdExists: machineId !== null,
        rootAuthorizedKeys: authorized ?? "",
        rootAuthorizedKeysExists: authorized !== null,
        shadow: shadow ?? "",
        rootPasswordField: shadow === null ? null : rootShadowField(shadow),
        osRelease: osRelease ?? "",
        osReleaseFields: parseOsRelease(osRelease ?? ""),
        files: fileMap,
        globs: globMap,
        seconds,
    };
}

/** guestfish answers each command as it runs: once `marker` is out, `next` gives the rest of the script. */
interface FollowUp {
    readonly marker: string;
    readonly next: (stdoutSoFar: string) => string;
}

function runGuestfish(args: string[], script: string, timeoutMs: number, followUp?: FollowUp): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
    return new Promise((resolve, reject) => {
        const child = spawn("guestfish", args, {
            env: { ...process.env, LIBGUESTFS_BACKEND: process.env.LIBGUESTFS_BACKEND ?? "direct" },
            stdio: ["pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true;
            child.kill("SIGTERM");
            setTimeout(() => child.kill("SIGKILL"), 5000).unref();
        }, timeoutMs);
        const onExit = () => child.kill("SIGKILL");
        process.on("exit", onExit);
        let followed = false;
        let followError: Error | undefined;
        child.stdout.on("data", (d) => {
            stdout += d;
            if (followUp && !followed && stdout.includes(followUp.marker)) {
                followed = true;
                let rest = "";
                try {
                    rest = followUp.next(stdout);
                } catch (e) {
                    followError = e as Error;
                }
                child.stdin.end(rest);
            }
        });
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", (e) => {
            clearTimeout(timer);
            process.removeListener("exit", onExit);
            reject(e);
        });
        child.on("close", (code) => {
            clearTimeout(timer);
            process.removeListener("exit", onExit);
            if (followError) reject(followError);
            else resolve({ code, stdout, stderr, timedOut });
        });
        child.stdin.on("error", () => undefined);
        if (followUp) child.stdin.write(script);
        else child.stdin.end(script);
    });
}
