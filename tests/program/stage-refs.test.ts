// `npm run stage -- --refs` (the workflow's plan job, before any machine builds) writes the very
// references the stack's `pulumi up` writes: the same key, the same fingerprints. Until then a
// stage built for the stack would be unreferenced, and gc could remove it mid-run.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { stringify } from "yaml";
import { repoRoot } from "../../components/recipe/paths";
import { byType, installMocks, settled, valueOf } from "../support/program";
import { run, tempDir } from "../support/tools";

const stack = `0.0.0-refs-${process.pid}`;
const store = tempDir("stage-refs");
const config = { oses: ["Rocky-9.8", "CentOS-7.3.1611"], providers: ["aws", "gcp", "docker"], publish: false, artifactStore: store };
const stackFile = path.join(repoRoot, `Pulumi.${stack}.yaml`);

installMocks(stack, config);

const stage = (...args: string[]) =>
    run(process.execPath, ["--require", "ts-node/register", path.join(repoRoot, "scripts/stage.ts"), "--stack", stack, ...args], {
        cwd: repoRoot,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
    });

test("stage --refs writes the references the program's store-references-write writes", async (t) => {
    fs.writeFileSync(stackFile, stringify({ config: Object.fromEntries(Object.entries(config).map(([k, v]) => [`gold-images:${k}`, v])) }));
    t.after(() => {
        fs.rmSync(stackFile, { force: true });
        fs.rmSync(store, { recursive: true, force: true });
    });
    const r = await stage("--refs");
    assert.equal(r.code, 0, r.stderr);
    const said = JSON.parse(r.stdout.trim().split("\n").pop()!);

    // The program, under mocks: its references command and the key it names.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const program = require("../../index");
    await valueOf(program.images);
    await settled();
    const write = byType("command:local:Command").find((c) => c.name === "store-references-write")!;
    const create = String(write.inputs.create);
    const programFingerprints = /--fingerprints (\S+)/.exec(create)![1].split(",");
    assert.match(create, new RegExp(`--stack gold-images\\.${stack.replace(/\./g, "\\.")} `));

    const file = path.join(store, said.refs);
    assert.ok(fs.existsSync(file), `${said.refs} in the store`);
    const written = JSON.parse(fs.readFileSync(file, "utf8"));
    assert.equal(written.stack, `gold-images.${stack}`);
    assert.deepEqual(written.fingerprints, programFingerprints);
    assert.equal(said.fingerprints, 2 * (1 + 3 * 3), "every stage of both OSes: a base and three stages per image");
    // Only the whole stack's set: a narrowed one would be a set no destroy removes.
    const narrowed = await stage("--refs", "--os", "Rocky-9.8");
    assert.equal(narrowed.code, 2);
    assert.match(narrowed.stderr, /--refs writes the whole stack's references: without --os and --provider/);
});
