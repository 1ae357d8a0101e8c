// One evaluation of a tree's index.ts under that tree's mocks (GOLD_BENCH_ROOT, default this
// repository) with the fullest config; prints one JSON line: resources registered, and every
// input of a cloud resource the engine would read from this machine: FileAssets/FileArchives
// (hashed by the engine at every preview) and local paths (e.g. localFilePath, a build context).
import * as path from "node:path";

const root = path.resolve(process.env.GOLD_BENCH_ROOT ?? path.join(__dirname, "..", ".."));
const ASSET_SIG = "4dabf18193072939515e22adb298388d";

type Found = { resource: string; input: string; kind: "asset" | "path"; value: string };

async function walk(value: unknown, at: string, out: Omit<Found, "resource">[]): Promise<void> {
    value = await value;
    if (value === null || value === undefined) return;
    if (typeof value === "string") {
        // (Device names and Azure resource ids are not files of this machine.)
        if (/^(\/|artifacts\/)/.test(value) && !/^\/(\/|dev\/|subscriptions\/)/.test(value)) out.push({ input: at, kind: "path", value });
        return;
    }
    if (typeof value !== "object") return;
    const o = value as Record<string, unknown>;
    const ctor = (o.constructor?.name ?? "") as string;
    if (ASSET_SIG in o || /Asset|Archive/.test(ctor)) {
        const p = await (o.path as unknown);
        out.push({ input: at, kind: "asset", value: String(p ?? ctor) });
        return;
    }
    for (const [k, v] of Object.entries(o)) await walk(v, at ? `${at}.${k}` : k, out);
}

async function main(): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const support = require(path.join(root, "tests/support/program"));
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { FULL_STACK, fullConfig } = require(path.join(root, "tests/support/full-config"));
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { providerNames } = require(path.join(root, "components/providers"));
    support.installMocks(FULL_STACK, fullConfig(providerNames()));
    const started = process.hrtime.bigint();
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const program = require(path.join(root, "index"));
    await support.valueOf(program.images);
    const done = await support.settled();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const found: Found[] = [];
    for (const r of done as { type: string; name: string; inputs: unknown }[]) {
        // Commands run on the machine that runs them: their inputs are text, not files the engine reads.
        if (r.type.startsWith("command:") || r.type.startsWith("gold:") || r.type.startsWith("pulumi:")) continue;
        const out: Omit<Found, "resource">[] = [];
        await walk(r.inputs, "", out);
        found.push(...out.map((f) => ({ resource: `${r.type} ${r.name}`, ...f })));
    }
    process.stdout.write(JSON.stringify({ seconds, resources: done.length, found }) + "\n");
}

main().catch((e) => {
    process.stderr.write(String(e?.stack ?? e) + "\n");
    process.exit(1);
});
