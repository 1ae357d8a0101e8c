// A tiny program for tests/unit/harness.test.ts: the commands of GOLD_HARNESS_SPEC (JSON
// [{name, trigger, create, delete}]) as command:local:Command, one `pulumi up` through the
// harness with state GOLD_E2E_STATE. Stdout: one JSON line {ok, executed, skipped, error?}.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { installHarness, reportUp } from "../../../components/engine/harness";

const harness = installHarness({ project: "p", stack: "s", stateFile: process.env.GOLD_E2E_STATE!, logDir: process.env.GOLD_E2E_LOGS! });
const spec = JSON.parse(process.env.GOLD_HARNESS_SPEC!) as { name: string; trigger: string; create: string; delete: string }[];

reportUp(harness, async () => {
    const commands = spec.map((c) => new command.local.Command(c.name, { create: c.create, delete: c.delete, triggers: [c.trigger], interpreter: ["/bin/sh", "-c"] }));
    await new Promise((resolve) => pulumi.all(commands.map((c) => c.stdout)).apply(resolve));
    return {};
});
