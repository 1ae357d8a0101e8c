// The program's modules form layers, not circles (recipe and kickstart below the stages, the
// stages below the providers, the pipeline on top): a circle means a layer names one above it.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { repoRoot } from "../../components/recipe/paths";
import { importCycles, importGraph, importsAcross } from "../support/import-cycles";
import { tempDir } from "../support/tools";

test("no import circle among the program's modules (type imports included)", () => {
    const graph = importGraph(repoRoot, ["components", "index.ts", "scripts"]);
    assert.ok(graph.size > 50, `the tree was read (${graph.size} modules)`);
    assert.deepEqual(importCycles(graph), []);
});

/** The import graph of a throwaway tree of these files (path to text). */
function graphOf(files: Record<string, string>, roots: string[]): Map<string, string[]> {
    const dir = tempDir("imports");
    try {
        for (const [f, text] of Object.entries(files)) {
            fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
            fs.writeFileSync(path.join(dir, f), text);
        }
        return importGraph(dir, roots);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

test("the circle finder finds a circle, type-only and through an index (its control)", () => {
    const graph = graphOf(
        {
            "a.ts": 'import type { B } from "./b";\nexport type A = B;\n',
            "b/index.ts": 'import { c } from "../c";\nexport type B = number;\nexport const b = c;\n',
            "c.ts": 'export type { A } from "./a";\nexport const c = 1;\n',
            "d.ts": 'import { c } from "./c";\nexport const d = c;\n',
        },
        ["."],
    );
    assert.deepEqual(importCycles(graph), [["a.ts", "b/index.ts", "c.ts"]]);
});

test("the kickstart layer imports nothing of the providers: it is given their names", () => {
    const graph = importGraph(repoRoot, ["components"]);
    assert.ok([...graph.keys()].some((f) => f.startsWith(path.join("components", "kickstart") + path.sep)), "the kickstart modules were read");
    assert.deepEqual(importsAcross(graph, "components/kickstart", "components/providers"), []);
});

test("the layer check finds a kickstart module naming the providers, type-only too (its control)", () => {
    const graph = graphOf(
        {
            "components/providers/index.ts": "export const providerNames = () => [];\n",
            "components/kickstart/a.ts": 'import type { X } from "../providers";\nexport type A = X;\n',
            "components/kickstart/b.ts": 'import { a } from "./c";\nexport const b = a;\n',
            "components/kickstart/c.ts": "export const a = 1;\n",
            "components/recipe/d.ts": 'import { providerNames } from "../providers";\nexport const d = providerNames;\n',
        },
        ["components"],
    );
    assert.deepEqual(importsAcross(graph, "components/kickstart", "components/providers"), [`${path.join("components", "kickstart", "a.ts")} -> ${path.join("components", "providers", "index.ts")}`]);
});
