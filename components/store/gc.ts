// What keeps a stage in a shared store: a stack's references. Each version stack writes the
// fingerprints it uses as refs/<stack>/<hash>.json (a command of the program: written on
// create, removed when the stack or that set is destroyed); `gc` removes the stages no
// reference names, and then the blobs no remaining manifest names. `pulumi destroy` of a
// version removes its references, never a blob another stack may share.
import { createHash } from "crypto";
import { ObjectInfo, ObjectStore } from "./object-store";
import { Manifest, checkFingerprint, readManifest, refsPrefix } from "./stages";

/** A stack's name as a key segment. */
export function refsOwner(project: string, stack: string): string {
    return `${project}.${stack}`.replace(/[^A-Za-z0-9._-]/g, "_");
}

export function refsKey(owner: string, fingerprints: string[]): string {
    const set = [...new Set(fingerprints)].sort();
    return `${refsPrefix}${owner}/${createHash("sha256").update(set.join("\n")).digest("hex").slice(0, 16)}.json`;
}

export async function writeRefs(store: ObjectStore, owner: string, fingerprints: string[]): Promise<string> {
    fingerprints.forEach(checkFingerprint);
    const key = refsKey(owner, fingerprints);
    await store.uploadText(key, JSON.stringify({ stack: owner, fingerprints: [...new Set(fingerprints)].sort(), written: new Date().toISOString() }, null, 2) + "\n");
    return key;
}

/** Fingerprints in a `pulumi stack export` (the stage commands' triggers), for stacks that predate refs. */
export function fingerprintsOfExport(exported: unknown): string[] {
    const out = new Set<string>();
    const resources = (exported as { deployment?: { resources?: { type?: string; inputs?: { triggers?: unknown[] } }[] } })?.deployment?.resources ?? [];
    for (const r of resources) {
        const t = r.type === "command:local:Command" ? r.inputs?.triggers?.[0] : undefined;
        if (typeof t === "string" && /^[0-9a-f]{64}$/.test(t)) out.add(t);
    }
    return [...out];
}

export interface GcReport {
    readonly referenced: number;
    readonly stages: { kept: number; removed: string[] };
    readonly blobs: { kept: number; removed: string[]; bytes: number };
    readonly deleted: boolean;
}

/**
 * Removes (with `apply`; else lists) the stages no reference names and that are older than
 * `minAgeHours` (a fan-out build waits in the store for the stack that will use it), then
 * the blobs no kept manifest names, also older than that (an upload in progress has no
 * manifest yet).
 */
export async function gc(store: ObjectStore, opts: { minAgeHours: number; apply: boolean; keep?: string[]; now?: Date }): Promise<GcReport> {
    const now = opts.now ?? new Date();
    const old = (o: ObjectInfo) => now.getTime() - o.modified.getTime() > opts.minAgeHours * 3600_000;
    const keep = new Set(opts.keep ?? []);
    for (const r of await store.list(refsPrefix)) {
        const text = await store.readText(r.key);
        try {
            for (const fp of JSON.parse(text ?? "{}").fingerprints ?? []) keep.add(fp);
        } catch {
            throw new Error(`${r.key} is not a references file: fix or remove it before a gc`);
        }
    }
    const kept: Manifest[] = [];
    const removedStages: string[] = [];
    for (const m of (await store.list("stages/")).filter((o) => o.key.endsWith("/manifest.json"))) {
        const fp = m.key.split("/")[1];
        const manifest = await readManifest(store, fp);
        if (keep.has(fp) || !old(m)) {
            if (manifest) kept.push(manifest);
            continue;
        }
        removedStages.push(m.key);
    }
    const live = new Set(kept.flatMap((m) => m.files.map((f) => f.key)));
    const removedBlobs: string[] = [];
    let bytes = 0;
    let keptBlobs = 0;
    for (const b of await store.list("blobs/")) {
        // A file written aside by a killed upload is never live.
        if ((b.complete && live.has(b.key)) || !old(b)) {
            keptBlobs++;
            continue;
        }
        removedBlobs.push(b.key);
        bytes += b.bytes;
    }
    if (opts.apply) {
        // Manifests first: a stage is never left naming a removed blob.
        for (const k of removedStages) await store.remove(k);
        // A stage stored meanwhile may name an old blob it found there (same content): the
        // manifests written since the listing are read again, and their blobs stay.
        const since = new Set(removedStages);
        for (const m of (await store.list("stages/")).filter((o) => o.key.endsWith("/manifest.json") && !since.has(o.key) && o.modified.getTime() >= now.getTime() - 60_000)) {
            for (const f of (await readManifest(store, m.key.split("/")[1]))?.files ?? []) live.add(f.key);
        }
        const spared = new Set(removedBlobs.filter((k) => live.has(k)));
        for (const k of removedBlobs) if (!spared.has(k)) await store.remove(k);
        removedBlobs.splice(0, removedBlobs.length, ...removedBlobs.filter((k) => !spared.has(k)));
    }
    return { referenced: keep.size, stages: { kept: kept.length, removed: removedStages }, blobs: { kept: keptBlobs, removed: removedBlobs, bytes }, deleted: opts.apply };
}
