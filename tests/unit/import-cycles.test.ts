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

test("the circle finder finds a circle, type-only and through an index (its control)", () => {
    const dir = tempDir("cycles");
    try {
        const write = (f: string, text: string) => (fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true }), fs.writeFileSync(path.join(dir, f), text));
        write("a.ts", 'import type { B } from "./b";\nexport type A = B;\n');
        write("b/index.ts", 'import { c } from "../c";\nexport type B = number;\nexport const b = c;\n');
        write("c.ts", 'export type { A } from "./a";\nexport const c = 1;\n');
        write("d.ts", 'import { c } from "./c";\nexport const d = c;\n');
        assert.deepEqual(importCycles(importGraph(dir, ["."])), [["a.ts", "b/index.ts", "c.ts"]]);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("the kickstart layer imports nothing of the providers: it is given their names", () => {
    const graph = importGraph(repoRoot, ["components"]);
    assert.ok([...graph.keys()].some((f) => f.startsWith(path.join("components", "kickstart") + path.sep)), "the kickstart modules were read");
    assert.deepEqual(importsAcross(graph, "components/kickstart", "components/providers"), []);
});

test("the layer check finds a kickstart module naming the providers, type-only too (its control)", () => {
    const dir = tempDir("layers");
    try {
        const write = (f: string, text: string) => (fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true }), fs.writeFileSync(path.join(dir, f), text));
        write("components/providers/index.ts", "export const providerNames = () => [];\n");
        write("components/kickstart/a.ts", 'import type { X } from "../providers";\nexport type A = X;\n');
        write("components/kickstart/b.ts", 'import { a } from "./c";\nexport const b = a;\n');
        write("components/kickstart/c.ts", "export const a = 1;\n");
        write("components/recipe/d.ts", 'import { providerNames } from "../providers";\nexport const d = providerNames;\n');
        const graph = importGraph(dir, ["components"]);
        assert.deepEqual(importsAcross(graph, "components/kickstart", "components/providers"), [`${path.join("components", "kickstart", "a.ts")} -> ${path.join("components", "providers", "index.ts")}`]);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});
