// index.ts as the Pulumi CLI loads it: @pulumi/pulumi's cmd/run registers ts-node and
// TypeScript from node_modules, type-checking the program, then runs it (here under mocks,
// as the CLI itself cannot be installed on these machines).
import assert from "node:assert/strict";
import * as path from "node:path";
import { test } from "node:test";
import { repoRoot } from "../../components/recipe/paths";
import { run } from "../support/tools";

test("the CLI's Node.js host loads and type-checks index.ts and runs the dev stack", async () => {
    const env = { ...process.env };
    delete env.TS_NODE_TRANSPILE_ONLY; // the CLI type-checks by default
    const r = await run(process.execPath, [path.join(repoRoot, "tests/support/cli-load.js")], { env });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.equal(report.version, "0.0.0-dev");
    assert.match(report.typescript, /^5\./);
    assert.ok(report.resources > 10, `the program registered its resources (${report.resources})`);
    assert.equal(report.exitCode, 0);
});
