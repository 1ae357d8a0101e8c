// Benchmark: the kickstart server under 200 concurrent requests (every virtual build × every
// kickstart OS, over real HTTP on loopback), p50/p95/max latency, with its render cache and
// against rendering every request anew (what it did before). Reported, never asserted.
//   npm run bench -- ks-server
// Writes artifacts/bench/ks-server.json.
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { KickstartRenderer, answer, createKsServer } from "../../components/kickstart/server";
import { listBuildNames } from "../../components/kickstart/definitions";
import { repoRoot } from "../../components/recipe/paths";
import { Recipe } from "../../components/recipe/recipe";
import { providerNames } from "../../components/providers";
import { TEST_KEY, TEST_REPO_SERVER } from "../support/kickstart-fixtures";

const CONCURRENT = 200;
const ROUNDS = 3;
const providers = providerNames();
const opts = { providers, root: repoRoot, sshPublicKey: TEST_KEY, log: () => undefined, site: new Recipe({ providers, siteOverrides: { repo_server: TEST_REPO_SERVER } }).site };

/** As the server was: a new renderer (Recipe, site, definitions, templates) for every request. */
function renderEveryTime(): http.Server {
    return http.createServer((req, res) => {
        const a = answer(req.method, req.url, new KickstartRenderer(opts), { address: req.socket.remoteAddress, headers: req.headers });
        res.writeHead(a.status, { "Content-Type": "text/plain; charset=utf-8" });
        res.end(a.body);
    });
}

function get(port: number, url: string): Promise<{ ms: number; status: number }> {
    const started = process.hrtime.bigint();
    return new Promise((resolve, reject) => {
        http.get({ host: "127.0.0.1", port, path: url, agent: false }, (res) => {
            res.resume();
            res.on("end", () => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, status: res.statusCode ?? 0 }));
        }).on("error", reject);
    });
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function measure(label: string, server: http.Server, urls: string[]) {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    let last: { p50: number; p95: number; max: number } | undefined;
    for (let round = 0; round < ROUNDS; round++) {
        const replies = await Promise.all(urls.map((u) => get(port, u)));
        const bad = replies.find((r) => r.status !== 200);
        if (bad) throw new Error(`${label}: a request got ${bad.status}`);
        const ms = replies.map((r) => r.ms).sort((a, b) => a - b);
        last = { p50: pct(ms, 50), p95: pct(ms, 95), max: ms[ms.length - 1] };
        console.log(`${label}, round ${round + 1}: ${CONCURRENT} concurrent: p50 ${last.p50.toFixed(0)} ms, p95 ${last.p95.toFixed(0)} ms, max ${last.max.toFixed(0)} ms`);
    }
    await new Promise<void>((r) => server.close(() => r()));
    return last!;
}

(async () => {
    const recipe = new Recipe({ providers });
    const pairs = listBuildNames("virtual", providers).flatMap((b) => recipe.kickstartOses.map((os) => `/ks.cfg?build=virtual/${b}&os=${os}`));
    const urls = Array.from({ length: CONCURRENT }, (_, i) => pairs[i % pairs.length]);
    const cached = await measure("with the render cache", createKsServer(opts), urls);
    const uncached = await measure("rendering every request", renderEveryTime(), urls);
    const result = { concurrent: CONCURRENT, distinct: pairs.length, cached, uncached, p95Ratio: uncached.p95 / cached.p95 };
    const work = path.join(repoRoot, "artifacts", "bench");
    fs.mkdirSync(work, { recursive: true });
    fs.writeFileSync(path.join(work, "ks-server.json"), JSON.stringify(result, null, 2));
    console.log(`p95 at ${CONCURRENT} concurrent: ${cached.p95.toFixed(0)} ms with the cache, ${uncached.p95.toFixed(0)} ms without (ratio ${result.p95Ratio.toFixed(1)})`);
})().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
});
