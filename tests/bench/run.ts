// npm run bench [-- NAME... | --all]: runs tests/bench/<NAME>.bench.ts, one after the other;
// without a name, lists them. Each reports ratios and figures; none asserts a time.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseOrExit, runMain } from "../../components/cli/args";

/** Every bench, in one line: what it measures (and its settings, from the environment). */
const BENCHES: Record<string, string> = {
    "ks-server": "the kickstart server's p50/p95/max latency at 200 concurrent requests, with its render cache and without",
    preview: "what evaluating the fullest config costs before the engine diffs: wall time, files and bytes read (GOLD_BENCH_ROOT, GOLD_BENCH_PREVIEW_RUNS)",
    providers: "`pulumi up` of all seven providers against one, each from a cold state (an hour or more; GOLD_BENCH_ONE, GOLD_BENCH_RUNS)",
};

/** The benches of the folder; one without a line in BENCHES (or a line without a file) is a mistake to fix here. */
function benches(): string[] {
    const files = fs.readdirSync(__dirname).filter((f) => f.endsWith(".bench.ts")).map((f) => f.slice(0, -".bench.ts".length)).sort();
    const undescribed = files.filter((f) => !(f in BENCHES));
    const gone = Object.keys(BENCHES).filter((b) => !files.includes(b));
    if (undescribed.length || gone.length) {
        throw new Error(`tests/bench/run.ts: BENCHES must describe every tests/bench/*.bench.ts (${[...undescribed.map((u) => `${u} has no line`), ...gone.map((g) => `${g} has no file`)].join("; ")})`);
    }
    return files;
}

const PROGRAM = { name: "bench", run: "npm run bench --" };

runMain(PROGRAM, () => {
    const { values, positionals } = parseOrExit(
        PROGRAM,
        {
            summary: "Runs benchmarks (figures, never assertions); with no name, lists them.",
            options: { all: { help: "run every bench, one after the other", flag: true } },
            positionals: { name: "NAME", help: "a bench to run (several run one after the other)", choices: benches },
            examples: ["npm run bench", "npm run bench -- ks-server", "GOLD_BENCH_ONE=openstack npm run bench -- providers"],
        },
        process.argv.slice(2),
    );
    const all = benches();
    const names = values.all ? all : positionals;
    // A list is the answer to "which benches are there": no bench starts by accident (providers takes an hour).
    if (names.length === 0) {
        const width = Math.max(...all.map((n) => n.length));
        return all.map((n) => `${n.padEnd(width)}  ${BENCHES[n]}`).join("\n") + "\n";
    }
    for (const name of names) {
        console.log(`# bench ${name}`);
        const r = spawnSync(process.execPath, ["--require", "ts-node/register", path.join(__dirname, `${name}.bench.ts`)], { stdio: "inherit" });
        if (r.status !== 0) throw new Error(`${name}: exit ${r.status ?? r.signal}`);
    }
    return undefined;
});
