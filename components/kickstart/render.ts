// Renders a kickstart: build definition (http/builds) + OS file + site variables + keys,
// through the release family's template (http/templates/<family>.ks.njk).
import * as fs from "fs";
import * as path from "path";
import * as nunjucks from "nunjucks";
import { kickstartFamily, listKickstartOses, loadOs } from "../recipe/os";
import { recipePaths, repoRoot } from "../recipe/paths";
import { loadSite, SiteVars } from "../recipe/site";
import { listBuilds, loadDefinition, resolveBuild } from "./definitions";
import { UnknownChoiceError } from "./errors";
import { readBuildKey } from "./keys";
import { osRepositories } from "./repos";
import { checkDefinition } from "./schema";

export { listBuilds } from "./definitions";

export interface KickstartOptions {
    /** "virtual/aws", "metal/host1", or "virtual" (virtual defaults). */
    readonly build: string;
    /** An OS id of templates/os (e.g. CentOS-7.2.1511). */
    readonly os: string;
    /** Repository root (a copy or fixture tree in tests). */
    readonly root?: string;
    /** Site variables; loaded from the root's templates when absent. */
    readonly site?: SiteVars;
    /** The build key's text; else sshPublicKeyFile; else keys/packer.pub (virtual builds only). */
    readonly sshPublicKey?: string;
    readonly sshPublicKeyFile?: string;
}

const LOCALE_RE = /^[A-Za-z0-9_.@-]+$/;
const KEYBOARD_RE = /^[A-Za-z0-9_-]+$/;
const TIMEZONE_RE = /^[A-Za-z0-9_+\/-]+$/;

function siteForKickstart(site: SiteVars) {
    const check = (key: "locale" | "keyboard" | "timezone", re: RegExp) => {
        const v = site[key];
        if (typeof v !== "string" || !re.test(v)) throw new Error(`site variable ${key} '${String(v)}' is not a valid ${key}`);
        return v;
    };
    return { locale: check("locale", LOCALE_RE), keyboard: check("keyboard", KEYBOARD_RE), timezone: check("timezone", TIMEZONE_RE) };
}

function templatesEnv(root: string): nunjucks.Environment {
    // noCache: a long-running ks-server picks up edited templates.
    const loader = new nunjucks.FileSystemLoader(path.join(recipePaths(root).http, "templates"), { noCache: true });
    return new nunjucks.Environment(loader, { autoescape: false, throwOnUndefined: true, trimBlocks: false });
}

/** Checks an OS id against the kickstart OSes of templates/os: unknown -> UnknownChoiceError. */
export function resolveOs(os: string, root: string = repoRoot): string {
    const known = listKickstartOses(root);
    if (!known.includes(os)) throw new UnknownChoiceError("unknown OS", os, known);
    return os;
}

export function renderKickstart(opts: KickstartOptions): string {
    const root = opts.root ?? repoRoot;
    const build = resolveBuild(opts.build, root);
    const os = loadOs(resolveOs(opts.os, root), root);
    const site = opts.site ?? loadSite({ root });
    const { raw, files } = loadDefinition(build, root);
    const def = checkDefinition(raw, files.map((f) => path.relative(root, f)).join(" + "));
    const { installUrl, repos } = osRepositories(os, site);
    const authorizedKeys = [...(def.build_key ? [readBuildKey({ ...opts, root })] : []), ...def.ssh_keys];
    const family = kickstartFamily(os);
    const text = templatesEnv(root).render(`${family}.ks.njk`, {
        build,
        os,
        family,
        def,
        site: siteForKickstart(site),
        install_url: installUrl,
        repos,
        authorized_keys: authorizedKeys,
        comment_lines: def.comment ? def.comment.split("\n") : [],
        lists_firmware_partition: def.disk.partitions.some((p) => p.mount === "/boot/efi" || p.mount === "biosboot"),
    });
    // Blank lines left by template tags carry no meaning in a kickstart.
    return text.replace(/\n{3,}/g, "\n\n").replace(/^\n+/, "");
}

/** Writes <outDir>/ks.cfg for a Packer http_directory; returns the file's path. */
export function writeHttpDirectory(outDir: string, opts: KickstartOptions): string {
    const text = renderKickstart(opts);
    fs.mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, "ks.cfg");
    fs.writeFileSync(file, text, { mode: 0o644 });
    return file;
}

/** Every valid (build, OS) pair, for tests and tooling. */
export function listKickstarts(root: string = repoRoot): { build: string; os: string }[] {
    return listBuilds(root).flatMap((build) => listKickstartOses(root).map((os) => ({ build, os })));
}
