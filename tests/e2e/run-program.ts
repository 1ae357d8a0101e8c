// One `pulumi up` of index.ts through the harness (a process per run: the program and the
// mocks are per process). Config: GOLD_E2E_CONFIG (JSON of stack config), GOLD_E2E_STACK,
// GOLD_E2E_STATE (state file), GOLD_E2E_LOGS (stderr of every command).
// Stdout: one JSON line {ok, images?, error?, executed, skipped}.
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { installHarness, reportUp } from "../../components/engine/harness";

const root = path.resolve(__dirname, "..", "..");
const config = JSON.parse(process.env.GOLD_E2E_CONFIG ?? "{}") as Record<string, unknown>;
const harness = installHarness({
    project: "gold-images",
    stack: process.env.GOLD_E2E_STACK ?? "0.0.0-e2e",
    stateFile: process.env.GOLD_E2E_STATE ?? path.join(root, "artifacts", "e2e-state.json"),
    logDir: process.env.GOLD_E2E_LOGS ?? path.join(root, "artifacts", "e2e-logs"),
});
pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [`gold-images:${k}`, typeof v === "string" ? v : JSON.stringify(v)])));

reportUp(harness, async () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const program = require(path.join(root, "index"));
    const images = await new Promise((resolve) => pulumi.output(program.images).apply(resolve));
    return { images };
});
