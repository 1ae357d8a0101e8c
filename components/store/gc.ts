// What keeps a stage in a shared store: a stack's references. Each version stack writes the
// fingerprints it uses as refs/<stack>/<hash>.json (a command of the program: written on
// create, removed when the stack or that set is destroyed); `gc` removes the stages no
// reference names, and then the blobs no remaining manifest names. `pulumi destroy` of a
// version removes its references, never a blob another stack may share.
import { createHash } from "crypto";
import { ObjectStore } from "./object-store";
import { Manifest, checkFingerprint, readManifest, refsPrefix, usedKey } from "./stages";

/** A stack's name as a key segment. */
export function refsOwner(project: string, stack: string): string {
    return `${project}.${stack}`.replace(/[^A-Za-z0-9._-]/g, "_");
}

export function refsKey(owner: string, fingerprints: string[]): string {
    const set = [...new Set(fingerprints)].sort();
    return `${refsPrefix}${owner}/${createHash("sha256").update(set.join("\n")).digest("hex").slice(0, 16)}.json`;
}

/**
 * Writes a stack's references. A pending set (`pendingHours`: what the workflow's plan writes
 * before machines build, `npm run stage -- --refs`) keeps its stages only until then, unless the
 * stack's own `pulumi up` writes its set, which supersedes every pending set of the stack (a
 * plan whose stack never ran, or ran another set, leaves nothing kept for good).
 */
export async function writeRefs(store: ObjectStore, owner: string, fingerprints: string[], opts: { pendingHours?: number; now?: Date } = {}): Promise<string> {
    fingerprints.forEach(checkFingerprint);
    const key = refsKey(owner, fingerprints);
    const now = opts.now ?? new Date();
    const pendingUntil = opts.pendingHours === undefined ? undefined : new Date(now.getTime() + opts.pendingHours * 3600_000).toISOString();
    // The stack's own set of the same stages is there already: a pending one must not replace it.
    if (pendingUntil) {
        const there = await store.readText(key);
        if (there !== undefined && !parseRefs(key, there).pendingUntil) return key;
    }
    await store.uploadText(key, JSON.stringify({ stack: owner, fingerprints: [...new Set(fingerprints)].sort(), written: now.toISOString(), ...(pendingUntil ? { pendingUntil } : {}) }, null, 2) + "\n");
    if (!pendingUntil) {
        for (const r of await store.list(`${refsPrefix}${owner}/`)) {
            if (r.key === key) continue;
            const other = parseRefs(r.key, await store.readText(r.key));
            if (other.pendingUntil) await store.remove(r.key);
        }
    }
    return key;
}

/** A references file: its fingerprints, and until when it holds them if it is pending. */
function parseRefs(key: string, text: string | undefined): { fingerprints: string[]; pendingUntil?: Date } {
    try {
        const r = JSON.parse(text ?? "{}");
        return { fingerprints: r.fingerprints ?? [], ...(r.pendingUntil ? { pendingUntil: new Date(r.pendingUntil) } : {}) };
    } catch {
        throw new Error(`${key} is not a references file: fix or remove it before a gc`);
    }
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

/** The time a last-use mark holds (its writer's clock), if it is one. */
function markTime(text: string | undefined): Date | undefined {
    try {
        const t = new Date(JSON.parse(text ?? "").used);
        return Number.isNaN(t.getTime()) ? undefined : t;
    } catch {
        return undefined;
    }
}

export interface GcReport {
    readonly referenced: number;
    /** Pending reference sets past their time (removed with the rest): they kept nothing. */
    readonly expiredRefs?: string[];
    /** `usedMeanwhile`: stages a reader marked while gc ran, kept. */
    readonly stages: { kept: number; removed: string[]; usedMeanwhile: string[] };
    readonly blobs: { kept: number; removed: string[]; bytes: number };
    readonly deleted: boolean;
}

/**
 * Removes (with `apply`; else lists) the stages no reference names and not used within
 * `minAgeHours` (their manifest's or their last-use mark's time: a fan-out build waits in the
 * store for the stack that will use it, and a stage found by a run is young again), then the
 * blobs no kept manifest names, also older than that (an upload in progress has no manifest
 * yet). A stage marked used while gc runs is kept: its mark is read again before its manifest
 * goes and after, and a manifest removed under a reader is put back.
 */
export async function gc(store: ObjectStore, opts: { minAgeHours: number; apply: boolean; keep?: string[]; now?: Date }): Promise<GcReport> {
    const now = opts.now ?? new Date();
    const old = (t: Date) => now.getTime() - t.getTime() > opts.minAgeHours * 3600_000;
    const keep = new Set(opts.keep ?? []);
    const expiredRefs: string[] = [];
    for (const r of await store.list(refsPrefix)) {
        const refs = parseRefs(r.key, await store.readText(r.key));
        // A pending set past its time (a plan whose stack never wrote its own): it keeps nothing.
        if (refs.pendingUntil && refs.pendingUntil.getTime() < now.getTime()) {
            expiredRefs.push(r.key);
            continue;
        }
        for (const fp of refs.fingerprints) keep.add(fp);
    }
    const listed = await store.list("stages/");
    const marks = new Map(listed.filter((o) => o.key.endsWith("/used")).map((o) => [o.key.split("/")[1], o]));
    const kept: Manifest[] = [];
    /** Each stage to remove, with its last-use mark as gc read it (undefined: none). */
    const candidates: { fp: string; key: string; mark: string | undefined }[] = [];
    const manifests = new Set<string>();
    for (const m of listed.filter((o) => o.key.endsWith("/manifest.json"))) {
        const fp = m.key.split("/")[1];
        manifests.add(fp);
        // The mark is read first, and judged by the time it holds: a reader that marked the stage
        // after the listing is seen here, and a later one by the mark's changed text.
        const mark = await store.readText(usedKey(fp));
        const times = [markTime(mark), marks.get(fp)?.modified].filter((t): t is Date => t !== undefined);
        const usedAt = times.length ? new Date(Math.max(...times.map((t) => t.getTime()))) : undefined;
        if (keep.has(fp) || !old(m.modified) || (usedAt && !old(usedAt))) {
            const manifest = await readManifest(store, fp);
            if (manifest) kept.push(manifest);
            continue;
        }
        candidates.push({ fp, key: m.key, mark });
    }
    // A mark whose stage is gone (a lookup of a stage never stored, or removed): nothing to keep.
    const strayMarks = [...marks].filter(([fp, o]) => !manifests.has(fp) && old(o.modified)).map(([, o]) => o.key);
    const live = new Set(kept.flatMap((m) => m.files.map((f) => f.key)));
    const removedStages: string[] = [];
    const usedMeanwhile: string[] = [];
    for (const c of candidates) {
        if (!opts.apply) {
            removedStages.push(c.key);
            continue;
        }
        const markedSince = async () => (await store.readText(usedKey(c.fp))) !== c.mark;
        if (await markedSince()) {
            usedMeanwhile.push(c.fp);
            continue;
        }
        const text = await store.readText(c.key);
        await store.remove(c.key);
        // A reader that marked it between the check and the removal: it is put back.
        if (text !== undefined && (await markedSince())) {
            await store.createText(c.key, text);
            usedMeanwhile.push(c.fp);
            continue;
        }
        removedStages.push(c.key);
    }
    for (const fp of usedMeanwhile) for (const f of (await readManifest(store, fp))?.files ?? []) live.add(f.key);
    const removedBlobs: string[] = [];
    let bytes = 0;
    let keptBlobs = 0;
    for (const b of await store.list("blobs/")) {
        // A file written aside by a killed upload is never live.
        if ((b.complete && live.has(b.key)) || !old(b.modified)) {
            keptBlobs++;
            continue;
        }
        removedBlobs.push(b.key);
        bytes += b.bytes;
    }
    if (opts.apply) {
        // A stage stored meanwhile may name an old blob it found there (same content): the
        // manifests written since the listing are read again, and their blobs stay.
        // (A stage gc removed and a run then stored again is among them.)
        for (const m of (await store.list("stages/")).filter((o) => o.key.endsWith("/manifest.json") && o.modified.getTime() >= now.getTime() - 60_000)) {
            for (const f of (await readManifest(store, m.key.split("/")[1]))?.files ?? []) live.add(f.key);
        }
        const spared = new Set(removedBlobs.filter((k) => live.has(k)));
        for (const k of removedBlobs) if (!spared.has(k)) await store.remove(k);
        removedBlobs.splice(0, removedBlobs.length, ...removedBlobs.filter((k) => !spared.has(k)));
        for (const k of strayMarks) await store.remove(k);
        for (const k of expiredRefs) await store.remove(k);
    }
    return {
        referenced: keep.size,
        ...(expiredRefs.length ? { expiredRefs } : {}),
        stages: { kept: kept.length + usedMeanwhile.length, removed: removedStages, usedMeanwhile },
        blobs: { kept: keptBlobs, removed: removedBlobs, bytes },
        deleted: opts.apply,
    };
}
