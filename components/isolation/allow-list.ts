// Where a build guest may go: the package mirrors its recipe names, read from the same Packer
// variables the build gets (the OS file, the site file, -var options), so a build run without
// Pulumi (scripts/packer-build.sh by hand) gets the same list as the program's.
import * as fs from "fs";
import { HclExpression, HclValue, parseVarFile } from "../recipe/hcl";
import { variableDefaults } from "../recipe/site";
import { mirrorProblem } from "./addresses";

/** One host and port a build may reach through the build proxy. */
export interface AllowedHost {
    readonly host: string;
    readonly port: number;
    /** The variable that named it, for messages. */
    readonly from: string;
}

/** Variables whose values are mirror URLs: install_url, each extra repo, the site mirror, a role's own mirrors. */
const URL_VARIABLES = ["install_url", "repo_server", "extra_repos", "build_mirrors"] as const;

/** The host and port of one mirror URL, or what is wrong with it (named by its variable). */
function hostOf(url: string, from: string): AllowedHost {
    const problem = mirrorProblem(url);
    if (problem) throw new Error(`build network: ${from} = '${url}' ${problem}`);
    const u = new URL(url);
    return { host: u.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase(), port: Number(u.port || (u.protocol === "https:" ? 443 : 80)), from };
}

/**
 * The allow list of a build with these Packer variables. A Debian repository is written
 * "URL SUITE COMPONENT…": its first word is the URL. `{{ repo_server }}` is the site mirror.
 */
export function allowList(vars: Record<string, HclValue>): AllowedHost[] {
    const repoServer = typeof vars.repo_server === "string" ? vars.repo_server : "";
    const urls: { url: string; from: string }[] = [];
    const add = (value: HclValue | undefined, from: string): void => {
        if (typeof value === "string") {
            const url = value.replace(/\{\{ *repo_server *\}\}/g, repoServer).trim().split(/\s+/)[0];
            if (url) urls.push({ url, from });
        } else if (Array.isArray(value)) value.forEach((v, i) => add(v, `${from}[${i}]`));
        else if (value && typeof value === "object" && !(value instanceof HclExpression)) {
            for (const [k, v] of Object.entries(value)) add(v, `${from}.${k}`);
        }
    };
    for (const name of URL_VARIABLES) add(vars[name], name);
    const seen = new Map<string, AllowedHost>();
    for (const { url, from } of urls) {
        const h = hostOf(url, from);
        const key = `${h.host}:${h.port}`;
        if (!seen.has(key)) seen.set(key, h);
    }
    return [...seen.values()];
}

/** A `-var` value as Packer reads it: HCL for a map or list, else the string itself. */
function varValue(name: string, text: string): HclValue {
    return /^\s*[[{]/.test(text) ? parseVarFile(`v = ${text}`, `-var ${name}`).v : text;
}

/**
 * The Packer variables of a `packer build` command line: the declared defaults, then each
 * -var-file and -var in the order given (Packer's own precedence).
 */
export function packerVariables(argv: readonly string[], defaults: Record<string, HclValue> = variableDefaults()): Record<string, HclValue> {
    const vars: Record<string, HclValue> = { ...defaults };
    for (let i = 0; i < argv.length; i++) {
        const m = /^--?(var-file|var)(?:=(.*))?$/s.exec(argv[i]);
        if (!m) continue;
        const value = m[2] ?? argv[++i];
        if (value === undefined) throw new Error(`build network: -${m[1]} without a value`);
        if (m[1] === "var-file") Object.assign(vars, parseVarFile(fs.readFileSync(value, "utf8"), value));
        else {
            const eq = value.indexOf("=");
            if (eq < 1) throw new Error(`build network: -var '${value}' is not name=value`);
            vars[value.slice(0, eq)] = varValue(value.slice(0, eq), value.slice(eq + 1));
        }
    }
    return vars;
}
