// Renders one kickstart from its parts, through the release family's template
// (http/templates/<family>.ks.njk). Loading the parts is the Recipe's (components/recipe/recipe.ts).
import * as path from "path";
import * as nunjucks from "nunjucks";
import { bootsWith, kickstartFamily, OsVars } from "../recipe/os";
import { recipePaths } from "../recipe/paths";
import { SiteVars } from "../recipe/site";
import { BuildId } from "./definitions";
import { osRepositories } from "./repos";
import { BuildDefinition } from "./schema";

export interface KickstartParts {
    readonly root: string;
    readonly build: BuildId;
    readonly os: OsVars;
    readonly def: BuildDefinition;
    /** Site variables, checked (components/recipe/site.ts). */
    readonly site: SiteVars;
    /** root's authorized keys: the build key (virtual builds) and the definition's keys. */
    readonly authorizedKeys: string[];
    /** The installer's proxy for its repositories (url/repo --proxy), or "" for none. */
    readonly installProxy: string;
}

const environments = new Map<string, nunjucks.Environment>();

function templatesEnv(root: string): nunjucks.Environment {
    let env = environments.get(root);
    if (!env) {
        // noCache: a long-running ks-server picks up edited templates.
        const loader = new nunjucks.FileSystemLoader(path.join(recipePaths(root).http, "templates"), { noCache: true });
        environments.set(root, (env = new nunjucks.Environment(loader, { autoescape: false, throwOnUndefined: true, trimBlocks: false })));
    }
    return env;
}

export function renderTemplate(p: KickstartParts): string {
    const { installUrl, repos } = osRepositories(p.os, p.site);
    const family = kickstartFamily(p.os);
    const listsFirmwarePartition = p.def.disk.partitions.some((x) => x.mount === "/boot/efi" || x.mount === "biosboot");
    const text = templatesEnv(p.root).render(`${family}.ks.njk`, {
        build: p.build,
        os: p.os,
        family,
        def: p.def,
        site: { locale: p.site.locale, keyboard: p.site.keyboard, timezone: p.site.timezone },
        install_url: installUrl,
        repos,
        install_proxy: p.installProxy,
        authorized_keys: p.authorizedKeys,
        comment_lines: p.def.comment ? p.def.comment.split("\n") : [],
        lists_firmware_partition: listsFirmwarePartition,
        // One disk for both firmwares, as the OS file says it boots; a definition that places a
        // firmware partition itself (a metal host that knows its firmware) keeps its own layout.
        hybrid_disk: bootsWith(p.os, "bios") && bootsWith(p.os, "uefi") && !listsFirmwarePartition,
    });
    // Blank lines left by template tags carry no meaning in a kickstart.
    return text.replace(/\n{3,}/g, "\n\n").replace(/^\n+/, "");
}
