import { createHash } from "crypto";

/** What a stage reads: files and folders of the repo, values, and the stage it builds on. */
export interface StageInputs {
    /** Repo-relative files or folders (folders are read whole, recursively). */
    readonly files: string[];
    /** Variables and rendered text that the stage depends on. */
    readonly values: Record<string, unknown>;
    /** Fingerprint of the stage this one starts from. */
    readonly upstream?: string;
}

/** How files are found and hashed: the Recipe, which reads each file once. */
export interface FileHasher {
    /** Repo-relative files of a file or folder, sorted. */
    files(rel: string): string[];
    /** sha256 (hex) of a repo-relative file. */
    hash(rel: string): string;
}

/** Every file a stage reads, sorted and unique. */
export function inputFiles(inputs: StageInputs, hasher: FileHasher): string[] {
    return [...new Set(inputs.files.flatMap((f) => hasher.files(f)))].sort();
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
export function fingerprint(inputs: StageInputs, hasher: FileHasher): string {
    const h = createHash("sha256");
    for (const rel of inputFiles(inputs, hasher)) h.update(`file ${rel} ${hasher.hash(rel)}\n`);
    h.update(`values ${canonical(inputs.values)}\n`);
    h.update(`upstream ${inputs.upstream ?? ""}\n`);
    return h.digest("hex");
}

/**
 * What `pulumi preview --diff` shows beside the fingerprint: a short hash per input file and
 * per value, so a replaced stage says which input changed.
 */
export function describeInputs(inputs: StageInputs, hasher: FileHasher): Record<string, string> {
    const short = (data: string) => createHash("sha256").update(data).digest("hex").slice(0, 12);
    const out: Record<string, string> = {};
    for (const rel of inputFiles(inputs, hasher)) out[rel] = hasher.hash(rel).slice(0, 12);
    for (const key of Object.keys(inputs.values).sort()) out[`value:${key}`] = short(canonical(inputs.values[key]));
    if (inputs.upstream) out.upstream = inputs.upstream.slice(0, 12);
    return out;
}

/** A stage's inputs, planned once: its fingerprint and the triggers of its command. */
export interface PlannedStage {
    readonly inputs: StageInputs;
    readonly fingerprint: string;
    /** [fingerprint, short hash per input]: a change of either is a replace, and says why. */
    readonly triggers: [string, Record<string, string>];
}

export function plan(inputs: StageInputs, hasher: FileHasher): PlannedStage {
    const fp = fingerprint(inputs, hasher);
    return { inputs, fingerprint: fp, triggers: [fp, describeInputs(inputs, hasher)] };
}
