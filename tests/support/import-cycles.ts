// The import graph of a TypeScript tree (type-only imports included: they tie modules together
// as much as value imports do for a reader) and its cycles (Tarjan's strongly connected components).
import * as fs from "node:fs";
import * as path from "node:path";

/** Each .ts file under `roots` (and the extra files) with the relative modules it imports. */
export function importGraph(base: string, roots: readonly string[]): Map<string, string[]> {
    const files: string[] = [];
    const walk = (d: string) => {
        for (const e of fs.readdirSync(path.join(base, d), { withFileTypes: true })) {
            const rel = path.join(d, e.name);
            if (e.isDirectory()) walk(rel);
            else if (rel.endsWith(".ts")) files.push(rel);
        }
    };
    for (const r of roots) (fs.statSync(path.join(base, r)).isDirectory() ? walk(r) : files.push(r));
    const graph = new Map<string, string[]>();
    for (const f of files) {
        const text = fs.readFileSync(path.join(base, f), "utf8");
        const targets: string[] = [];
        for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/gms)) {
            const t = path.normalize(path.join(path.dirname(f), m[1]));
            const hit = [`${t}.ts`, path.join(t, "index.ts")].find((c) => fs.existsSync(path.join(base, c)));
            if (hit) targets.push(hit);
        }
        graph.set(f, targets);
    }
    return graph;
}

/** The cycles: every strongly connected component of more than one module. */
export function importCycles(graph: Map<string, string[]>): string[][] {
    let next = 0;
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const out: string[][] = [];
    const visit = (v: string) => {
        index.set(v, next);
        low.set(v, next++);
        stack.push(v);
        onStack.add(v);
        for (const w of graph.get(v) ?? []) {
            if (!index.has(w)) {
                visit(w);
                low.set(v, Math.min(low.get(v)!, low.get(w)!));
            } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
        }
        if (low.get(v) === index.get(v)) {
            const component: string[] = [];
            let w: string;
            do {
                w = stack.pop()!;
                onStack.delete(w);
                component.push(w);
            } while (w !== v);
            if (component.length > 1) out.push(component.sort());
        }
    };
    for (const v of graph.keys()) if (!index.has(v)) visit(v);
    return out;
}

/** The imports from modules under `from` of modules under `to` ("a.ts -> b.ts"): a layer naming one above it. */
export function importsAcross(graph: Map<string, string[]>, from: string, to: string): string[] {
    const under = (f: string, dir: string) => f.startsWith(path.normalize(dir) + path.sep);
    return [...graph].flatMap(([f, targets]) => (under(f, from) ? targets.filter((t) => under(t, to)).map((t) => `${f} -> ${t}`) : []));
}
