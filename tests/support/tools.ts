import { spawn, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface RunResult {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs a command to completion without a shell; output is captured, never inherited. */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const stdin = opts.input === undefined ? "ignore" : "pipe";
        const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: [stdin, "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout!.on("data", (d) => (stdout += d));
        child.stderr!.on("data", (d) => (stderr += d));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr }));
        if (child.stdin) {
            // A child that exits without reading its input must not crash the test with EPIPE.
            child.stdin.on("error", () => undefined);
            child.stdin.end(opts.input);
        }
    });
}

/** Runs async jobs with at most `limit` at a time (the machine has 2 cores). */
export async function pool<T, R>(items: T[], limit: number, job: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            results[i] = await job(items[i]);
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return results;
}

/** The reason a test must skip when a tool is missing, or undefined when it is on PATH. */
export function missingTool(name: string): string | undefined {
    const found = spawnSync("sh", ["-c", `command -v ${name}`]).status === 0;
    return found ? undefined : `${name} is not installed (see .ci/run for the packages)`;
}

export function tempDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `gold-${prefix}-`));
}

/** sha256 of a file (or of its first `limit` bytes), read in chunks: disk images are large. */
export function sha256File(file: string, limit = Infinity): string {
    const h = createHash("sha256");
    const fd = fs.openSync(file, "r");
    const buf = Buffer.alloc(4 * 1024 * 1024);
    let pos = 0;
    try {
        while (pos < limit) {
            const n = fs.readSync(fd, buf, 0, Math.min(buf.length, limit - pos), pos);
            if (n === 0) break;
            h.update(buf.subarray(0, n));
            pos += n;
        }
    } finally {
        fs.closeSync(fd);
    }
    return h.digest("hex");
}

/** A TCP port free on loopback now (for QEMU's SSH forward, Azurite, …). */
export { freePort } from "../../components/firstboot/ports";
