// What a `pulumi preview` of the fullest config costs this machine before the engine diffs
// anything: the program's evaluation (under mocks) — its wall time, the files it opens and
// their bytes (tests/support/trace-opens.js), how many of them are under artifacts/ or the
// store — and the inputs of cloud resources the engine itself would read from local files
// (each FileAsset is hashed in full at every preview). GOLD_BENCH_ROOT=<another checkout>
// measures that tree (e.g. a commit from before the artifact store) with the same probe.
// Figures only: nothing is asserted.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const root = path.resolve(process.env.GOLD_BENCH_ROOT ?? path.join(__dirname, "..", ".."));
const runs = Number(process.env.GOLD_BENCH_PREVIEW_RUNS ?? 3);
const here = path.join(__dirname, "..", "..");
const results: { seconds: number; wall: number; files: number; bytes: number; sdkBytes: number; underArtifacts: number; found: { resource: string; input: string; kind: string; value: string }[]; resources: number }[] = [];

for (let i = 0; i < runs; i++) {
    const trace = path.join(os.tmpdir(), `gold-preview-opens-${process.pid}-${i}.json`);
    const started = Date.now();
    const r = spawnSync(process.execPath, ["--require", path.join(here, "tests/support/trace-opens.js"), "--require", "ts-node/register", path.join(__dirname, "preview-probe.ts")], {
        cwd: root,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", GOLD_BENCH_ROOT: root, GOLD_TRACE_OPENS: trace },
        encoding: "utf8",
    });
    const wall = (Date.now() - started) / 1000;
    if (r.status !== 0) {
        console.error(r.stderr);
        process.exit(1);
    }
    const probe = JSON.parse(r.stdout.trim().split("\n").pop()!);
    const opens = JSON.parse(fs.readFileSync(trace, "utf8")).opens as { path: string; bytes: number }[];
    fs.rmSync(trace, { force: true });
    const unique = new Map(opens.map((o) => [o.path, o.bytes]));
    const bytes = [...unique.values()].reduce((a, b) => a + b, 0);
    const sdkBytes = [...unique].filter(([p]) => p.includes("/node_modules/")).reduce((a, [, b]) => a + b, 0);
    const underArtifacts = [...unique.keys()].filter((p) => p.startsWith(path.join(root, "artifacts") + "/")).length;
    results.push({ seconds: probe.seconds, wall, files: unique.size, bytes, sdkBytes, underArtifacts, found: probe.found, resources: probe.resources });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const last = results[results.length - 1];
console.log(`# tree: ${root}`);
console.log(`# resources registered: ${last.resources}`);
console.log(`# evaluation (index.ts, mocks): median ${median(results.map((r) => r.seconds)).toFixed(2)} s; process wall (SDK load included) median ${median(results.map((r) => r.wall)).toFixed(2)} s over ${runs} runs`);
console.log(`# files opened: ${last.files}, ${(last.bytes / 1e6).toFixed(1)} MB (${(last.sdkBytes / 1e6).toFixed(1)} MB of them under node_modules); under artifacts/: ${last.underArtifacts}`);
const assets = last.found.filter((f) => f.kind === "asset");
const paths = last.found.filter((f) => f.kind === "path");
console.log(`# cloud-resource inputs the engine reads from local files: ${assets.length} file assets, ${paths.length} local paths`);
for (const f of last.found) console.log(`#   ${f.kind} ${f.resource} .${f.input} = ${f.value}`);
