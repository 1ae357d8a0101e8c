// Repository URLs of an OS: its OS file may refer to site variables ({{ repo_server }}).
import * as nunjucks from "nunjucks";
import { OsVars } from "../recipe/os";
import { SITE_NAMES, SiteName, SiteVars } from "../recipe/site";

const URL_RE = /^(https?|ftp|nfs):\/\/[^\s"'\\`$]+$/;
const REPO_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export interface Repo {
    readonly name: string;
    readonly url: string;
}

const strings = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });

/** Renders one URL of an OS file against the site variables and checks the result. */
export function renderOsUrl(os: OsVars, key: string, template: string, site: SiteVars): string {
    for (const m of template.matchAll(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)) {
        const name = m[1] as SiteName;
        if (!SITE_NAMES.includes(name)) throw new Error(`OS ${os.vm_name}: ${key} uses {{ ${name} }}, which is not a site variable (${SITE_NAMES.join(", ")})`);
        if (site[name] === "" || site[name] === undefined) {
            throw new Error(
                `config site.${name}: '' is not valid for ${os.vm_name}, whose ${key} uses {{ ${name} }}; ` +
                    `set it (pulumi config set --path site.${name} <url>) or ${name} in templates/site.pkrvars.hcl`,
            );
        }
    }
    let url: string;
    try {
        url = strings.renderString(template, site as unknown as object).trim();
    } catch (e) {
        throw new Error(`OS ${os.vm_name}: ${key} '${template}' does not render: ${(e as Error).message}`);
    }
    if (!URL_RE.test(url)) throw new Error(`OS ${os.vm_name}: ${key} '${url}' is not an http(s)/ftp/nfs URL`);
    return url;
}

/** The install tree and the extra repositories, in the order of the OS file. */
export function osRepositories(os: OsVars, site: SiteVars): { installUrl: string; repos: Repo[] } {
    const installUrl = renderOsUrl(os, "install_url", os.install_url, site);
    const repos = Object.entries(os.extra_repos).map(([name, url]) => {
        if (!REPO_NAME_RE.test(name)) throw new Error(`OS ${os.vm_name}: extra_repos name '${name}' is not a valid repository name`);
        return { name, url: renderOsUrl(os, `extra_repos.${name}`, url, site) };
    });
    return { installUrl, repos };
}
