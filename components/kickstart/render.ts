// Kickstarts for the tools (npm run ks, the kickstart server, the ISO build's command):
// build definition (http/builds) + OS file + site variables + keys, rendered by the Recipe.
import * as fs from "fs";
import * as path from "path";
import { BuildKey, Recipe } from "../recipe/recipe";
import { SiteVars } from "../recipe/site";
import { listBuilds } from "./definitions";

export { listBuilds } from "./definitions";

export interface KickstartOptions extends BuildKey {
    /** Every provider's name (the providers registry's providerNames()): each is a virtual build. */
    readonly providers: readonly string[];
    /** "virtual/aws", "metal/host1", or "virtual" (virtual defaults). */
    readonly build: string;
    /** An OS id of templates/os (e.g. CentOS-7.2.1511). */
    readonly os: string;
    /** Repository root (a copy or fixture tree in tests). */
    readonly root?: string;
    /** Site variables; loaded from the root's templates when absent. */
    readonly site?: SiteVars;
    /** Checked overrides of the site variables (config `site`), when `site` is absent. */
    readonly siteOverrides?: Record<string, unknown>;
    /** The installer's proxy for its repositories: a QEMU build's (components/isolation GUEST_PROXY). */
    readonly installProxy?: string;
}

export function renderKickstart(opts: KickstartOptions): string {
    return new Recipe({ providers: opts.providers, root: opts.root, site: opts.site, siteOverrides: opts.siteOverrides }).kickstart(opts.build, opts.os, opts, opts.installProxy);
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
export function listKickstarts(providers: readonly string[], root?: string): { build: string; os: string }[] {
    const recipe = new Recipe({ providers, root });
    return listBuilds(providers, recipe.root).flatMap((build) => recipe.kickstartOses.map((os) => ({ build, os })));
}
