// npm run bench [-- NAME...]: runs tests/bench/<NAME>.bench.ts, one after the other (all when
// none is named). Each reports ratios and figures; none asserts a time.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const all = fs.readdirSync(__dirname).filter((f) => f.endsWith(".bench.ts")).map((f) => f.slice(0, -".bench.ts".length)).sort();
const names = process.argv.slice(2);
const bad = names.find((n) => !all.includes(n));
if (bad) {
    console.error(`bench: '${bad}' is not valid; valid choices: ${all.join(", ")}`);
    process.exit(2);
}
for (const name of names.length ? names : all) {
    console.log(`# bench ${name}`);
    const r = spawnSync(process.execPath, ["--require", "ts-node/register", path.join(__dirname, `${name}.bench.ts`)], { stdio: "inherit" });
    if (r.status !== 0) process.exit(r.status ?? 1);
}
