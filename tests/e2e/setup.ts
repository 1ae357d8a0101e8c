// What the end-to-end test and the benchmark share: the Debian 12 base disk (built or taken
// from the cache), the stack config that builds from it, and one `pulumi up` through the harness.
import * as path from "node:path";
import { repoRoot } from "../../components/recipe/paths";
import { run } from "../support/tools";

export interface RunReport {
    ok: boolean;
    error?: string;
    images?: Record<string, Record<string, { artifact: string; sha256: string; firstBoot?: unknown }>>;
    executed: { name: string; action: string; seconds: number; ok: boolean }[];
    skipped: string[];
}

/** Generates the build key if missing and builds (or takes from the cache) the Debian base disk. */
export async function baseDisk(outDir: string): Promise<{ disk: string; kernel: string; initrd: string; append: string; sha256: string }> {
    const keys = await run(path.join(repoRoot, "scripts/gen-keys.sh"), []);
    if (keys.code !== 0) throw new Error(`scripts/gen-keys.sh failed:\n${keys.stderr}`);
    const disk = await run(path.join(repoRoot, "scripts/debian-base-disk.sh"), [outDir, path.join(repoRoot, "keys/packer.pub")]);
    if (disk.code !== 0) throw new Error(`scripts/debian-base-disk.sh failed:\n${disk.stderr.slice(-3000)}`);
    return JSON.parse(disk.stdout.trim());
}

/** Stack config: OS Debian-12 from the base disk (direct kernel boot), nothing published, the store given. */
export function stackConfig(providers: readonly string[], d: Awaited<ReturnType<typeof baseDisk>>, artifactStore: string): Record<string, unknown> {
    return {
        artifactStore,
        oses: ["Debian-12"],
        providers,
        publish: false,
        // Two one-vCPU builds at a time: under TCG each guest keeps one host core busy, and
        // this machine has two (the variants are independent of each other).
        parallelBuilds: 2,
        site: { accelerator: "tcg", disk_size: 3072, memory: 1024, cpus: 1, ssh_timeout: "20m" },
        baseImages: {
            "Debian-12": {
                path: d.disk,
                checksum: `sha256:${d.sha256}`,
                sshUsername: "root",
                qemuargs: [["-kernel", d.kernel], ["-initrd", d.initrd], ["-append", d.append]],
            },
        },
    };
}

/** One `pulumi up` of index.ts (or of a copy of the repo) through the harness, in its own process. */
export async function up(opts: { config: Record<string, unknown>; stack: string; state: string; logs: string; root?: string; env?: Record<string, string>; traceOpens?: string }): Promise<RunReport> {
    const root = opts.root ?? repoRoot;
    // Traced: every file the program's process opens (tests/support/trace-opens.js).
    const trace = opts.traceOpens ? ["--require", path.join(root, "tests/support/trace-opens.js")] : [];
    const r = await run(process.execPath, [...trace, "--require", "ts-node/register", path.join(root, "tests/e2e/run-program.ts")], {
        cwd: root,
        env: {
            ...process.env,
            TS_NODE_TRANSPILE_ONLY: "true",
            GOLD_E2E_CONFIG: JSON.stringify(opts.config),
            GOLD_E2E_STACK: opts.stack,
            GOLD_E2E_STATE: opts.state,
            GOLD_E2E_LOGS: opts.logs,
            ...(opts.traceOpens ? { GOLD_TRACE_OPENS: opts.traceOpens } : {}),
            ...(opts.env ?? {}),
        },
    });
    const last = r.stdout.trim().split("\n").pop() ?? "";
    try {
        return JSON.parse(last);
    } catch {
        throw new Error(`run-program printed no report (exit ${r.code}):\n${r.stderr.slice(-3000)}`);
    }
}
