import * as fs from "fs";
import { z } from "zod";
import { checked, choice, flag, list, object, text, whole } from "./fields";
import { HclValue, parseHcl, parseVarFile } from "./hcl";
import { recipePaths, repoRoot } from "./paths";
import { mirrorProblem } from "../isolation/addresses";

// Values that reach a kickstart line, a shell, Packer or Ansible: plain words only (no
// spaces, quotes, `$`, braces — nothing a template or a shell would read as code).
const URL_OR_EMPTY = /^$|^(https?|ftp):\/\/[A-Za-z0-9._~:@%\/+,;=?&#!-]+$/;
const MIRROR_OR_EMPTY = /^$|^https?:\/\/[A-Za-z0-9._~:@%\/+,;=?&#!-]+$/;
const DURATION = /^([0-9]+(ms|s|m|h))+$/;
// ansible-playbook options a site may add: verbosity, --diff, and tag selection.
const ANSIBLE_ARG = /^(-v{1,4}|--diff|--(skip-)?tags=[A-Za-z0-9_,-]+)$/;

/**
 * The site variables (the seed's site.json) that a site file or config `site` may set, with
 * what each must be. Packer declares more variables (stage inputs, OS fields, paths, keys):
 * those are the program's and the OS files' own, never a site's.
 */
export const SITE_FIELDS = {
    namespace: text(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "a name of letters, digits, '.', '_', '-' (the Vagrant box namespace)", 64),
    version: text(/^[0-9A-Za-z.+-]+$/, "a version", 64),
    headless: flag(),
    iso_server: text(URL_OR_EMPTY, "an http(s):// or ftp:// URL, or empty", 512),
    // A build reaches it through its proxy (components/isolation): http(s) only, never link-local.
    repo_server: text(MIRROR_OR_EMPTY, "an http(s):// URL, or empty", 512).refine((v) => v === "" || !mirrorProblem(v), {
        error: (iss) => `an http(s):// URL, or empty; '${iss.input}' ${mirrorProblem(String(iss.input))}`,
    }),
    locale: text(/^[A-Za-z0-9_.@-]+$/, "a locale such as en_US.UTF-8", 64),
    keyboard: text(/^[A-Za-z0-9_-]+$/, "a keyboard layout such as us or de-latin1", 64),
    timezone: text(/^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+){0,2}$/, "a time zone such as UTC or Europe/Berlin", 64),
    disk_size: whole(2048, 2097152, "a disk size in MiB from 2048 to 2097152"),
    memory: whole(256, 1048576, "a memory size in MiB from 256 to 1048576"),
    cpus: whole(1, 256),
    accelerator: choice(["kvm", "tcg", "hvf", "whpx", "xen", "none"]),
    ssh_timeout: text(DURATION, "a duration such as 60m or 1h30m", 32),
    boot_wait: text(DURATION, "a duration such as 10s", 32),
    ansible_extra_args: list(ANSIBLE_ARG, "a list of ansible-playbook options among -v…-vvvv, --diff, --tags=…, --skip-tags=…").max(16, {
        error: "at most 16 ansible-playbook options",
    }),
};

export type SiteName = keyof typeof SITE_FIELDS;
export const SITE_NAMES = Object.keys(SITE_FIELDS) as SiteName[];
const SITE = object(SITE_FIELDS).partial();

/** Site variables in effect: Packer's defaults, the site file, then the stack's overrides. */
export type SiteVars = { readonly [K in SiteName]: z.infer<(typeof SITE_FIELDS)[K]> };

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

/** Names of every variable Packer declares. */
export function declaredVariables(root: string = repoRoot): string[] {
    const file = recipePaths(root).variables;
    return parseHcl(fs.readFileSync(file, "utf8"), file)
        .blocks.filter((b) => b.type === "variable")
        .map((b) => b.labels[0]);
}

/** Checks site variables (from a file, or config `site`): only SITE_FIELDS, each valid. */
export function checkSite(values: unknown, where: string): Partial<SiteVars> {
    return checked(SITE, values, where) as Partial<SiteVars>;
}

/**
 * The site variables in effect: Packer's defaults, then templates/site.pkrvars.hcl when it
 * exists (or the file given), then explicit overrides (already checked by the caller's key).
 */
export function loadSite(opts: { root?: string; siteFile?: string; overrides?: Record<string, unknown> } = {}): SiteVars {
    const root = opts.root ?? repoRoot;
    const siteFile = opts.siteFile ?? recipePaths(root).siteFile;
    const fromFile = fs.existsSync(siteFile) ? checkSite(parseVarFile(fs.readFileSync(siteFile, "utf8"), siteFile), `${siteFile}: `) : {};
    const overrides = checkSite(opts.overrides ?? {}, "site variable ");
    const defaults = variableDefaults(root);
    const merged = Object.fromEntries(SITE_NAMES.map((k) => [k, overrides[k] ?? fromFile[k] ?? defaults[k]]));
    return checked(object(SITE_FIELDS), merged, `${recipePaths(root).variables}: default of `) as SiteVars;
}
