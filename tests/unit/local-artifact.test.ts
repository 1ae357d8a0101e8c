// The delete of a placed artifact (an OVA, a box): the engine runs a replaced resource's delete
// after its replacement's create, at the same path; the old delete must leave the new file.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { removeIfStill } from "../../components/publish/local-artifact";
import { tempDir } from "../support/tools";

const OLD = "a".repeat(64);
const NEW = "b".repeat(64);

test("a replaced artifact's delete leaves its replacement; its own delete removes it and its marks", () => {
    const dir = tempDir("local-artifact");
    const target = path.join(dir, "Debian-12-1.0.0_vmware.ova");
    const place = (sha: string) => {
        fs.writeFileSync(target, sha);
        fs.writeFileSync(`${target}.sha256`, `${sha}  ${path.basename(target)}\n`);
        fs.writeFileSync(`${target}.gold-untested`, "x\n");
    };
    const run = (command: string) => execFileSync("/bin/sh", ["-c", command]);
    // The replacement placed its file; the old delete then runs.
    place(NEW);
    run(removeIfStill(target, OLD, `${target}.gold-untested`));
    assert.equal(fs.readFileSync(target, "utf8"), NEW, "the replacement's file is kept");
    assert.ok(fs.existsSync(`${target}.sha256`) && fs.existsSync(`${target}.gold-untested`));
    // Its own delete (a destroy): everything goes.
    run(removeIfStill(target, NEW, `${target}.gold-untested`));
    assert.deepEqual(fs.readdirSync(dir), []);
    // Nothing there: the delete succeeds all the same.
    run(removeIfStill(target, NEW));
    // A path with a quote and a space is data, not shell.
    const odd = path.join(dir, "it's here.ova");
    fs.writeFileSync(odd, "x");
    fs.writeFileSync(`${odd}.sha256`, `${NEW}  x\n`);
    run(removeIfStill(odd, NEW));
    assert.deepEqual(fs.readdirSync(dir), []);
    fs.rmSync(dir, { recursive: true });
});
