// Whether the stack's artifact store can be reached from here with the credentials in the
// environment: every stage reads and writes it, so a wrong bucket or an expired login should
// fail before a build, not after it.
import * as fs from "fs";
import * as path from "path";
import { openStore, parseStoreUrl } from "../store";
import { Report } from ".";

const TIMEOUT_MS = 30_000;

function writableDir(dir: string): string | undefined {
    // The nearest folder that exists is where the store's folders will be made.
    let d = dir;
    while (!fs.existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
    try {
        fs.accessSync(d, fs.constants.W_OK);
        return undefined;
    } catch {
        return `${d} is not writable by this user`;
    }
}

export async function storeReport(url: string): Promise<Report> {
    const base = { id: "store", title: `the artifact store ${url}`, optional: false };
    const fix = "check artifactStore and this machine's credentials for it (README: The artifact store)";
    try {
        const spec = parseStoreUrl(url);
        if (spec.kind === "file") {
            const problem = writableDir(spec.dir);
            if (problem) return { ...base, ok: false, detail: problem, fix };
            return { ...base, ok: true, version: spec.dir, detail: fs.existsSync(spec.dir) ? "a directory, writable" : "a directory, made at the first stage" };
        }
        // A read of a key no stage uses: reaching the service and being let in is what counts.
        const store = openStore(url);
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS)));
        try {
            await Promise.race([store.stat("doctor/probe"), timeout]);
        } finally {
            clearTimeout(timer);
        }
        return { ...base, ok: true, version: url, detail: "reachable, read allowed (writes are checked by the first stage stored)" };
    } catch (e) {
        return { ...base, ok: false, detail: (e as Error).message.split("\n")[0].slice(0, 300), fix };
    }
}
