import { spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";

export interface Exec {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs a command to its end (no shell, stdin closed or `input`, output captured); a timeout kills it. */
export function exec(cmd: string, args: readonly string[], timeoutMs = 600_000, input?: string): Promise<Exec> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
        if (input !== undefined) {
            child.stdin!.on("error", () => undefined);
            child.stdin!.end(input);
        }
        let stdout = "";
        let stderr = "";
        child.stdout!.on("data", (d) => (stdout += d));
        child.stderr!.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.on("error", (e) => {
            clearTimeout(timer);
            reject(e);
        });
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr });
        });
    });
}

/** The sha256 of a file, read as a stream. */
export function sha256File(file: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const h = createHash("sha256");
        fs.createReadStream(file).on("data", (d) => h.update(d)).on("error", reject).on("end", () => resolve(h.digest("hex")));
    });
}
