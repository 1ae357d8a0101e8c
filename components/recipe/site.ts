import * as fs from "fs";
import { HclValue, parseHcl, parseVarFile } from "./hcl";
import { recipePaths, repoRoot } from "./paths";

/** Site variables (the seed's site.json): Packer's defaults, then the site's own file. */
export interface SiteVars {
    readonly namespace: string;
    readonly version: string;
    readonly headless: boolean;
    readonly iso_server: string;
    readonly repo_server: string;
    readonly locale: string;
    readonly keyboard: string;
    readonly timezone: string;
    readonly disk_size: number;
    readonly memory: number;
    readonly cpus: number;
    readonly [key: string]: HclValue;
}

/** Defaults of every variable declared in templates/variables.pkr.hcl that has one. */
export function variableDefaults(root: string = repoRoot): Record<string, HclValue> {
    const file = recipePaths(root).variables;
    const body = parseHcl(fs.readFileSync(file, "utf8"), file);
    const defaults: Record<string, HclValue> = {};
    for (const block of body.blocks) {
        if (block.type === "variable" && "default" in block.body.attributes) {
            defaults[block.labels[0]] = block.body.attributes.default;
        }
    }
    return defaults;
}

/** Names of every variable Packer declares, so overrides can be checked against them. */
export function declaredVariables(root: string = repoRoot): string[] {
    const file = recipePaths(root).variables;
    return parseHcl(fs.readFileSync(file, "utf8"), file)
        .blocks.filter((b) => b.type === "variable")
        .map((b) => b.labels[0]);
}

/**
 * The site variables in effect: defaults, then templates/site.pkrvars.hcl when it exists
 * (or the file given), then explicit overrides.
 */
export function loadSite(
    opts: { root?: string; siteFile?: string; overrides?: Record<string, HclValue> } = {},
): SiteVars {
    const root = opts.root ?? repoRoot;
    const siteFile = opts.siteFile ?? recipePaths(root).siteFile;
    const fromFile = fs.existsSync(siteFile) ? parseVarFile(fs.readFileSync(siteFile, "utf8"), siteFile) : {};
    const declared = declaredVariables(root);
    for (const key of [...Object.keys(fromFile), ...Object.keys(opts.overrides ?? {})]) {
        if (!declared.includes(key)) {
            throw new Error(`site variable '${key}' is not declared in templates/variables.pkr.hcl; declared: ${declared.join(", ")}`);
        }
    }
    return { ...variableDefaults(root), ...fromFile, ...(opts.overrides ?? {}) } as SiteVars;
}
