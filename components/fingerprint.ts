import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { repoRoot } from "./recipe/paths";

/** What a stage reads: files and folders of the repo, values, and the stage it builds on. */
export interface StageInputs {
    /** Repo-relative files or folders (folders are read whole, recursively). */
    readonly files: string[];
    /** Variables and rendered text that the stage depends on. */
    readonly values: Record<string, unknown>;
    /** Fingerprint of the stage this one starts from. */
    readonly upstream?: string;
}

function expand(root: string, rel: string): string[] {
    const abs = path.join(root, rel);
    const stat = fs.statSync(abs, { throwIfNoEntry: false });
    if (!stat) throw new Error(`stage input ${rel} does not exist`);
    if (!stat.isDirectory()) return [rel];
    return fs
        .readdirSync(abs)
        .flatMap((entry) => expand(root, path.posix.join(rel, entry)));
}

/** Every file a stage reads, sorted and unique. */
export function inputFiles(inputs: StageInputs, root: string = repoRoot): string[] {
    return [...new Set(inputs.files.flatMap((f) => expand(root, f)))].sort();
}

/** Canonical JSON: object keys sorted, so equal values hash equally. */
function canonical(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
    if (value && typeof value === "object") {
        return `{${Object.keys(value)
            .sort()
            .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
            .join(",")}}`;
    }
    return JSON.stringify(value) ?? "null";
}

/**
 * A content fingerprint of exactly a stage's inputs: each file's path and content hash, the
 * values, and the upstream fingerprint. File modes are left out (git does not keep most).
 */
export function fingerprint(inputs: StageInputs, root: string = repoRoot): string {
    const h = createHash("sha256");
    for (const rel of inputFiles(inputs, root)) {
        const content = createHash("sha256").update(fs.readFileSync(path.join(root, rel))).digest("hex");
        h.update(`file ${rel} ${content}\n`);
    }
    h.update(`values ${canonical(inputs.values)}\n`);
    h.update(`upstream ${inputs.upstream ?? ""}\n`);
    return h.digest("hex");
}

/**
 * What `pulumi preview --diff` shows beside the fingerprint: a short hash per input file and
 * per value, so a replaced stage says which input changed.
 */
export function describeInputs(inputs: StageInputs, root: string = repoRoot): Record<string, string> {
    const short = (data: string | Buffer) => createHash("sha256").update(data).digest("hex").slice(0, 12);
    const out: Record<string, string> = {};
    for (const rel of inputFiles(inputs, root)) out[rel] = short(fs.readFileSync(path.join(root, rel)));
    for (const key of Object.keys(inputs.values).sort()) out[`value:${key}`] = short(canonical(inputs.values[key]));
    if (inputs.upstream) out.upstream = inputs.upstream.slice(0, 12);
    return out;
}
