// Checks this machine before hours of building, for one stack (default dev):
//   npm run doctor [-- --stack NAME] [--json]
// One line per tool the stack's stages run (Packer and its plugins, QEMU and whether KVM is
// usable for site.accelerator, Ansible, guestfish with a readable kernel, podman, genisoimage,
// ssh-keygen, the build key, Vagrant's insecure key, the artifact store with this environment's
// credentials): found or missing, its version, and how to get it. The stack's config is checked
// the program's way first. Exit 0 when nothing required is missing, 1 otherwise, 2 bad input
// (options, or the stack's config).
import { exitUsage, matches, parseOrExit, runMain } from "../components/cli/args";
import { STACK_NAME, loadStackConfig, readStackFile } from "../components/config/stack-file";
import { diagnose, formatReport } from "../components/doctor";
import { storeReport } from "../components/doctor/store";
import { preflight, stackNeeds } from "../components/pipeline";

const PROGRAM = { name: "doctor", run: "npm run doctor --" };

const { values: v } = parseOrExit(PROGRAM, {
    summary: "Checks that this machine has every tool the stack's stages run, and reaches its artifact store; says how to get what is missing.",
    options: {
        stack: { help: "the stack whose Pulumi.<stack>.yaml says what is built (default: dev)", value: "NAME", example: "dev", check: matches(STACK_NAME, "a stack name (letters, digits, '.', '_', '-')") },
        json: { help: "one JSON line instead of the table", flag: true },
    },
    examples: ["npm run doctor", "npm run doctor -- --stack 1.4.0", "npm run --silent doctor -- --json"],
}, process.argv.slice(2));

async function main(): Promise<string> {
    let config, plans;
    try {
        config = loadStackConfig(readStackFile(v.stack ?? "dev"));
        plans = preflight(config);
    } catch (e) {
        // The stack file or its config is the input here: its error names the key and the choices.
        return exitUsage(PROGRAM, (e as Error).message, "");
    }
    const reports = [...(await diagnose(stackNeeds(config, plans))), await storeReport(config.artifactStore)];
    const missing = reports.filter((r) => !r.ok && !r.optional);
    process.exitCode = missing.length ? 1 : 0;
    if (v.json) return JSON.stringify({ ok: missing.length === 0, stack: config.stack, reports });
    return [
        `stack ${config.stack}: ${config.oses.join(", ")}; ${config.providers.map((p) => p.name).join(", ")}; accelerator ${config.recipe.site.accelerator}`,
        ...reports.map(formatReport),
        missing.length ? `${missing.length} missing: the stages that need them stop before they build.` : "ready to build.",
    ].join("\n");
}

runMain(PROGRAM, main);
