// Build definitions (http/builds/): which files exist, and their merge.
// Safety: a name from a caller is only ever compared with names read from the directory; the
// file opened is the directory entry itself, so no path is built from caller input.
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { recipePaths, repoRoot } from "../recipe/paths";
import { BadNameError, UnknownChoiceError } from "./errors";

export const BUILD_TYPES = ["metal", "virtual"] as const;
export type BuildType = (typeof BUILD_TYPES)[number];

/** What a type, build or host name may look like: no dots, no slashes, no leading dash. */
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const MAX_NAME = 64;
const DEFAULTS = "defaults";
const EXT = ".yaml";

/** Types whose defaults alone make a usable build ("virtual" = the seed's fallback). */
const TYPE_ONLY_ALLOWED: readonly BuildType[] = ["virtual"];

export interface BuildId {
    readonly type: BuildType;
    /** The file name without .yaml, or "defaults" for the type-only form ("virtual"). */
    readonly name: string;
    /** "virtual/aws", "metal/host1", or "virtual" for virtual defaults. */
    readonly id: string;
}

export function buildsDir(root: string = repoRoot): string {
    return path.join(recipePaths(root).http, "builds");
}

/** Regular *.yaml files of a folder with a valid name: symlinks and odd names are not listed. */
function listedYaml(dir: string): Map<string, string> {
    const found = new Map<string, string>();
    let entries: fs.Dirent[];
    try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return found;
        throw e;
    }
    for (const entry of entries) {
        if (!entry.isFile() || !entry.name.endsWith(EXT)) continue;
        const name = entry.name.slice(0, -EXT.length);
        if (NAME_RE.test(name)) found.set(name, path.join(dir, entry.name));
    }
    return found;
}

/**
 * Build (host) names of one type, without "defaults". Every provider is a virtual build: one
 * without http/builds/virtual/<name>.yaml gets the virtual defaults. The provider names come
 * from the caller (the providers registry's providerNames()), so this layer names no layer above it.
 */
export function listBuildNames(type: BuildType, providers: readonly string[], root: string = repoRoot): string[] {
    const files = [...listedYaml(path.join(buildsDir(root), type)).keys()].filter((n) => n !== DEFAULTS);
    return [...new Set([...files, ...(type === "virtual" ? providers : [])])].sort();
}

/** Every valid build id, "virtual/aws" ... "metal/host1" ... */
export function listBuilds(providers: readonly string[], root: string = repoRoot): string[] {
    return BUILD_TYPES.flatMap((t) => listBuildNames(t, providers, root).map((n) => `${t}/${n}`));
}

function checkName(what: string, value: string): void {
    if (value.length > MAX_NAME || !NAME_RE.test(value)) {
        throw new BadNameError(`${what} '${printable(value)}' is not a valid name (letters, digits, '-', '_'; at most ${MAX_NAME})`);
    }
}

/** For messages: control characters shown escaped, long values cut. */
export function printable(value: string): string {
    const cut = value.length > 80 ? value.slice(0, 80) + "..." : value;
    return cut.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** Parses "type/name" (or "virtual" alone) and checks both against the files that exist and the providers. */
export function resolveBuild(build: string, providers: readonly string[], root: string = repoRoot): BuildId {
    const parts = build.split("/");
    if (parts.length > 2) throw new BadNameError(`build '${printable(build)}' must be <type>/<name>`);
    const [type, name] = parts;
    checkName("build type", type);
    if (!(BUILD_TYPES as readonly string[]).includes(type)) throw new UnknownChoiceError("unknown build type", type, BUILD_TYPES);
    const t = type as BuildType;
    const names = listBuildNames(t, providers, root);
    if (name === undefined || name === DEFAULTS) {
        if (!TYPE_ONLY_ALLOWED.includes(t)) {
            // Installing a host with the defaults of all hosts is never what was meant.
            throw new UnknownChoiceError(`build type '${t}' needs a host`, build, names.map((n) => `${t}/${n}`));
        }
        return { type: t, name: DEFAULTS, id: t };
    }
    checkName(t === "metal" ? "host" : "build", name);
    if (!names.includes(name)) {
        throw new UnknownChoiceError(t === "metal" ? "unknown metal host" : `unknown ${t} build`, build, names.map((n) => `${t}/${n}`));
    }
    return { type: t, name, id: `${t}/${name}` };
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === "object" && v !== null && !Array.isArray(v);

/** Maps merge key by key; anything else (lists included) is replaced whole. */
export function deepMerge(base: Plain, over: Plain): Plain {
    const out: Plain = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = isPlain(v) && isPlain(out[k]) ? deepMerge(out[k] as Plain, v) : v;
    return out;
}

function readYaml(file: string): Plain {
    const doc = YAML.parse(fs.readFileSync(file, "utf8"), { uniqueKeys: true });
    if (doc === null || doc === undefined) return {};
    if (!isPlain(doc)) throw new Error(`${file}: a build definition must be a map of keys`);
    return doc;
}

/** The merged definition (defaults.yaml -> <type>/defaults.yaml -> <type>/<name>.yaml) and its files. */
export function loadDefinition(id: BuildId, root: string = repoRoot): { raw: Plain; files: string[] } {
    const dir = buildsDir(root);
    const top = listedYaml(dir).get(DEFAULTS);
    if (!top) throw new Error(`${path.join(dir, DEFAULTS + EXT)} is missing: it holds every key of a build definition`);
    const typed = listedYaml(path.join(dir, id.type));
    const files = [top, typed.get(DEFAULTS), id.name === DEFAULTS ? undefined : typed.get(id.name)].filter((f): f is string => !!f);
    let raw: Plain = {};
    for (const f of files) raw = deepMerge(raw, readYaml(f));
    return { raw, files };
}
