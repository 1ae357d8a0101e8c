// scripts/claim-version.sh: artifacts/<version>/ belongs to one stack. A second stack of the
// same version is refused before it builds, and its delete touches nothing of the first's.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { repoRoot } from "../../components/recipe/paths";
import { run, tempDir } from "../support/tools";

const script = path.join(repoRoot, "scripts", "claim-version.sh");

test("the first stack claims a version; another is refused, saying whose it is; --check answers for deletes", async () => {
    const dir = path.join(tempDir("claim"), "artifacts", "1.4.0");
    assert.equal((await run(script, [dir, "1.4.0"])).code, 0);
    assert.equal((await run(script, [dir, "1.4.0"])).code, 0, "the owner again");
    const other = await run(script, [dir, "release-1.4"]);
    assert.equal(other.code, 3);
    assert.match(other.stderr, /belongs to stack '1\.4\.0', not 'release-1\.4'/);
    assert.equal((await run(script, ["--check", dir, "1.4.0"])).code, 0);
    assert.notEqual((await run(script, ["--check", dir, "release-1.4"])).code, 0);
    assert.notEqual((await run(script, ["--check", path.join(dir, "..", "9.9.9"), "1.4.0"])).code, 0, "nothing claimed: nothing to delete");
    assert.equal(fs.readFileSync(path.join(dir, ".stack"), "utf8"), "1.4.0\n");
    fs.rmSync(path.dirname(path.dirname(dir)), { recursive: true });
});

test("racing stacks: exactly one wins, every stage of the winner passes", async () => {
    const dir = path.join(tempDir("claim-race"), "artifacts", "2.0.0");
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => run(script, [dir, i % 2 ? "a" : "b"])));
    const winner = fs.readFileSync(path.join(dir, ".stack"), "utf8").trim();
    for (const [i, r] of results.entries()) assert.equal(r.code, (i % 2 ? "a" : "b") === winner ? 0 : 3, r.stderr);
    fs.rmSync(path.dirname(path.dirname(dir)), { recursive: true });
});
