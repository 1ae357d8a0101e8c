// A stack's config as the Pulumi CLI would give it to the program, read from Pulumi.<stack>.yaml
// for the tools that run the program's plan without the CLI (npm run stage, npm run doctor).
// Secrets are left out: these tools build and check, they never publish.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { repoRoot } from "../recipe/paths";
import { GoldConfig, declaredConfig, loadConfig } from ".";

/** A stack name as the Pulumi CLI accepts it (and as it names Pulumi.<stack>.yaml). */
export const STACK_NAME = /^[A-Za-z0-9._-]+$/;

export class StackFileError extends Error {}

export interface StackFile {
    readonly project: string;
    readonly stack: string;
    readonly file: string;
    /** This project's keys (without the `<project>:` prefix), secrets left out. */
    readonly config: Record<string, unknown>;
}

export function projectName(root: string = repoRoot): string {
    return parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")).name as string;
}

/** Reads Pulumi.<stack>.yaml; what it does not set of `oses`/`providers`, Pulumi.yaml's defaults give. */
export function readStackFile(stack: string, root: string = repoRoot): StackFile {
    if (!STACK_NAME.test(stack)) throw new StackFileError(`--stack '${stack}' is not a stack name (letters, digits, '.', '_', '-')`);
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        const known = fs.readdirSync(root).flatMap((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1] ?? []);
        throw new StackFileError(`--stack '${stack}': ${path.basename(file)} does not exist (pulumi config set … writes it); stacks here: ${known.join(", ") || "none"}`);
    }
    return stackFileAt(file, stack, root);
}

/** A stack file anywhere (an example's), read for the stack `stack` of the project at `root`. */
export function stackFileAt(file: string, stack: string, root: string = repoRoot): StackFile {
    const project = projectName(root);
    let doc: { config?: Record<string, unknown> } | null;
    try {
        doc = parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new StackFileError(`${path.basename(file)} is not YAML: ${(e as Error).message.split("\n")[0]}`);
    }
    const config: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(doc?.config ?? {})) {
        const [ns, name] = key.includes(":") ? key.split(":", 2) : [project, key];
        if (ns !== project) continue;
        if (value && typeof value === "object" && "secure" in value) continue;
        config[name] = value;
    }
    const declared = declaredConfig(root);
    for (const key of ["oses", "providers"]) config[key] ??= declared[key]?.default;
    return { project, stack, file, config };
}

/** Hands the stack's config to the SDK, as the CLI does before the program runs. */
export function setStackConfig(s: StackFile): void {
    pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(s.config).map(([k, x]) => [`${s.project}:${k}`, typeof x === "string" ? x : JSON.stringify(x)])));
}

/** The stack's checked config (the program's own loader: the same errors, before anything runs). */
export function loadStackConfig(s: StackFile): GoldConfig {
    setStackConfig(s);
    return loadConfig(new pulumi.Config(s.project), s.stack);
}
