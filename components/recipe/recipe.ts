// The recipe as one object: the OS files, the site variables in effect, the kickstart build
// definitions and the repository files the stages read, each loaded (or hashed, or rendered)
// once and then passed around as values.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { BuildDefinition, checkDefinition } from "../kickstart/schema";
import { UnknownChoiceError } from "../kickstart/errors";
import { BuildId, loadDefinition, resolveBuild } from "../kickstart/definitions";
import { readBuildKey } from "../kickstart/keys";
import { renderTemplate } from "../kickstart/template";
import { NO_KICKSTART, OsVars, hasKickstart, listOses, loadOs } from "./os";
import { repoRoot } from "./paths";
import { SiteVars, loadSite } from "./site";

/** Where a virtual build's key comes from: the text, a file, or keys/packer.pub. */
export interface BuildKey {
    readonly sshPublicKey?: string;
    readonly sshPublicKeyFile?: string;
}

export class Recipe {
    readonly root: string;
    /** Site variables in effect: Packer's defaults, templates/site.pkrvars.hcl, the overrides. */
    readonly site: SiteVars;
    /** Every provider's name: each is a virtual build, with or without its own definition file. */
    readonly providers: readonly string[];
    private osIds?: string[];
    private readonly osCache = new Map<string, OsVars>();
    private readonly fileHashes = new Map<string, string>();
    private readonly expanded = new Map<string, string[]>();
    private readonly definitions = new Map<string, BuildDefinition>();
    private readonly kickstarts = new Map<string, string>();

    constructor(opts: { providers: readonly string[]; root?: string; site?: SiteVars; siteOverrides?: Record<string, unknown> }) {
        this.root = opts.root ?? repoRoot;
        this.providers = opts.providers;
        this.site = opts.site ?? loadSite({ root: this.root, overrides: opts.siteOverrides });
    }

    /** Every OS id (file names of templates/os). */
    get oses(): string[] {
        return (this.osIds ??= listOses(this.root));
    }

    /** One OS file, read and checked once. */
    os(id: string): OsVars {
        let os = this.osCache.get(id);
        if (!os) this.osCache.set(id, (os = loadOs(id, this.root, this.oses)));
        return os;
    }

    /** OSes that install with a kickstart (the ones the kickstart tools offer). */
    get kickstartOses(): string[] {
        return this.oses.filter((id) => hasKickstart(this.os(id)));
    }

    /** Repo-relative files of a file or a folder (read whole, recursively), sorted. */
    files(rel: string): string[] {
        let out = this.expanded.get(rel);
        if (out) return out;
        const stat = fs.statSync(path.join(this.root, rel), { throwIfNoEntry: false });
        if (!stat) throw new Error(`stage input ${rel} does not exist`);
        out = stat.isDirectory()
            ? fs
                  .readdirSync(path.join(this.root, rel))
                  .flatMap((entry) => this.files(path.posix.join(rel, entry)))
                  .sort()
            : [rel];
        this.expanded.set(rel, out);
        return out;
    }

    /** The sha256 of a repo file, read once. */
    hash(rel: string): string {
        let h = this.fileHashes.get(rel);
        if (!h) this.fileHashes.set(rel, (h = createHash("sha256").update(fs.readFileSync(path.join(this.root, rel))).digest("hex")));
        return h;
    }

    /** A merged, checked build definition (http/builds), read once. */
    definition(build: BuildId): BuildDefinition {
        let def = this.definitions.get(build.id);
        if (!def) {
            const { raw, files } = loadDefinition(build, this.root);
            this.definitions.set(build.id, (def = checkDefinition(raw, files.map((f) => path.relative(this.root, f)).join(" + "), build.type)));
        }
        return def;
    }

    /**
     * The kickstart of a build ("virtual/<provider>", "metal/<host>", "virtual") for an OS, rendered
     * once; installProxy: the proxy its installer reaches the repositories through (a QEMU build's).
     */
    kickstart(build: string, osId: string, key: BuildKey = {}, installProxy = ""): string {
        const id = resolveBuild(build, this.providers, this.root);
        if (!this.kickstartOses.includes(osId)) {
            // An OS file without a kickstart (its base starts from a disk image) is known, but not served.
            const reason = this.oses.includes(osId) ? NO_KICKSTART : undefined;
            throw new UnknownChoiceError(reason ? "OS" : "unknown OS", osId, this.kickstartOses, reason);
        }
        const def = this.definition(id);
        const authorizedKeys = [...(def.build_key ? [readBuildKey({ ...key, root: this.root })] : []), ...def.ssh_keys];
        const cacheKey = JSON.stringify([id.id, osId, authorizedKeys, installProxy]);
        let text = this.kickstarts.get(cacheKey);
        if (text === undefined) {
            text = renderTemplate({ root: this.root, build: id, os: this.os(osId), def, site: this.site, authorizedKeys, installProxy });
            this.kickstarts.set(cacheKey, text);
        }
        return text;
    }
}
