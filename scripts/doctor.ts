// Checks this machine before hours of building, for one stack (default dev):
//   npm run doctor [-- --stack NAME] [--json]
// One line per tool the stack's stages run (Packer and its plugins, QEMU and whether KVM is
// usable for site.accelerator, Ansible, guestfish with a readable kernel, podman, genisoimage,
// ssh-keygen, the build key, Vagrant's insecure key, the artifact store with this environment's
// credentials): found or missing, its version, and how to get it. The stack's config is checked
// the program's way first. Exit 0 when nothing required is missing, 1 otherwise, 2 bad input.
import { parseArgs } from "util";
import { StackFileError, loadStackConfig, readStackFile } from "../components/config/stack-file";
import { diagnose, formatReport } from "../components/doctor";
import { storeReport } from "../components/doctor/store";
import { preflight, stackNeeds } from "../components/pipeline";

const USAGE = `usage: npm run doctor -- [--stack NAME] [--json]
  --stack NAME   the stack whose Pulumi.<stack>.yaml says what is built (default: dev)
  --json         one JSON line instead of the table
example: npm run doctor -- --stack 1.4.0`;

function fail(message: string, code: number): never {
    process.stderr.write(`doctor: ${message}\n`);
    process.exit(code);
}

async function main(): Promise<void> {
    let values: { stack?: string; json?: boolean; help?: boolean };
    try {
        values = parseArgs({ args: process.argv.slice(2), strict: true, allowPositionals: false, options: { stack: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } } }).values;
    } catch (e) {
        return fail(`${(e as Error).message} (try --help)`, 2);
    }
    if (values.help) {
        process.stdout.write(USAGE + "\n");
        return;
    }
    let config, plans;
    try {
        config = loadStackConfig(readStackFile(values.stack ?? "dev"));
        plans = preflight(config);
    } catch (e) {
        return fail((e as Error).message, e instanceof StackFileError ? 2 : 1);
    }
    const reports = [...(await diagnose(stackNeeds(config, plans))), await storeReport(config.artifactStore)];
    const missing = reports.filter((r) => !r.ok && !r.optional);
    if (values.json) {
        process.stdout.write(JSON.stringify({ ok: missing.length === 0, stack: config.stack, reports }) + "\n");
    } else {
        const oses = config.oses.join(", ");
        process.stdout.write(`stack ${config.stack}: ${oses}; ${config.providers.map((p) => p.name).join(", ")}; accelerator ${config.recipe.site.accelerator}\n`);
        process.stdout.write(reports.map(formatReport).join("\n") + "\n");
        process.stdout.write(missing.length ? `${missing.length} missing: the stages that need them stop before they build.\n` : "ready to build.\n");
    }
    process.exitCode = missing.length ? 1 : 0;
}

main().catch((e) => fail((e as Error).message, 1));
