// Benchmark: wall time of `pulumi up` (through the end-to-end harness, every stage for real)
// for all seven providers against one provider, each from a cold state (base included), on
// the Debian base disk, with chroot variants (the default); and the one provider again with
// `variantMode: boot` (its variant booted under QEMU), for comparison. Reported as ratios;
// nothing is asserted.
//   npm run bench -- providers                      one = gcp; runs one, seven, one-boot
//   GOLD_BENCH_ONE=openstack npm run bench -- providers
//   GOLD_BENCH_RUNS=one npm run bench -- providers  some runs only (the others are kept from the last run)
// Writes artifacts/bench/providers.json. Takes about as long as the two builds (an hour or
// more under TCG); the artifacts of both runs are removed afterwards.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "../../components/recipe/paths";
import { providerNames } from "../../components/providers";
import { baseDisk, stackConfig, up } from "../e2e/setup";

const one = process.env.GOLD_BENCH_ONE ?? "gcp";
if (!providerNames().includes(one as never)) {
    throw new Error(`GOLD_BENCH_ONE: '${one}' is not valid; valid choices: ${providerNames().join(", ")}`);
}
const work = path.join(repoRoot, "artifacts", "bench");

async function measure(label: string, providers: readonly string[], disk: Awaited<ReturnType<typeof baseDisk>>, variantMode: "chroot" | "boot" = "chroot") {
    // A version and a store of its own, both empty: nothing is reused from other runs.
    const stack = `0.0.0-bench-${label}`;
    const state = path.join(work, `${label}.state.json`);
    const store = path.join(work, `${label}-store`);
    fs.rmSync(state, { force: true });
    fs.rmSync(store, { recursive: true, force: true });
    fs.rmSync(path.join(repoRoot, "artifacts", stack), { recursive: true, force: true });
    const started = Date.now();
    const report = await up({ config: { ...stackConfig(providers, disk, `file://${store}`), variantMode }, stack, state, logs: path.join(work, `${label}-logs`) });
    const seconds = (Date.now() - started) / 1000;
    fs.rmSync(path.join(repoRoot, "artifacts", stack), { recursive: true, force: true });
    fs.rmSync(store, { recursive: true, force: true });
    if (!report.ok) throw new Error(`${label}: the run failed: ${report.error}`);
    const stages = Object.fromEntries(report.executed.map((e) => [e.name, e.seconds]));
    console.log(`${label}: ${providers.join(", ")} (variantMode ${variantMode}): ${seconds.toFixed(0)} s`);
    return { providers, variantMode, seconds, stages };
}

(async () => {
    fs.mkdirSync(work, { recursive: true });
    const disk = await baseDisk(path.join(work, "base-disk"));
    // GOLD_BENCH_RUNS=one,seven (say) measures those; the others are kept from the last run.
    const valid = ["one", "seven", "one-boot"];
    const runs = (process.env.GOLD_BENCH_RUNS ?? valid.join(",")).split(",");
    const bad = runs.find((r) => !valid.includes(r));
    if (bad) throw new Error(`GOLD_BENCH_RUNS: '${bad}' is not valid; valid choices: ${valid.join(", ")}`);
    const file = path.join(work, "providers.json");
    const last = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : {};
    const single = runs.includes("one") ? await measure("one", [one], disk) : last.one;
    const all = runs.includes("seven") ? await measure("seven", providerNames(), disk) : last.seven;
    const booted = runs.includes("one-boot") ? await measure("one-boot", [one], disk, "boot") : last.oneBoot;
    const ratio = (a?: { seconds: number }, b?: { seconds: number }) => (a && b ? a.seconds / b.seconds : undefined);
    const result = { ratio: ratio(all, single), bootOverChroot: ratio(booted, single), one: single, seven: all, oneBoot: booted, cpus: os.cpus().length };
    fs.writeFileSync(file, JSON.stringify(result, null, 2));
    if (result.ratio) console.log(`P1, seven providers / one (chroot variants): ${result.ratio.toFixed(2)} (${all.seconds.toFixed(0)} s / ${single.seconds.toFixed(0)} s)`);
    if (result.bootOverChroot) console.log(`one provider, variantMode boot / chroot: ${result.bootOverChroot.toFixed(2)} (${booted.seconds.toFixed(0)} s / ${single.seconds.toFixed(0)} s)`);
})().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
});
