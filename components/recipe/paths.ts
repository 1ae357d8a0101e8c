import * as path from "path";

/** The repository root: everything the recipe reads is found from here. */
export const repoRoot = path.resolve(__dirname, "..", "..");

/** Where each part of the recipe lives, relative to a root (a copy of the repo in tests). */
export function recipePaths(root: string = repoRoot) {
    return {
        root,
        templates: path.join(root, "templates"),
        osDir: path.join(root, "templates", "os"),
        variables: path.join(root, "templates", "variables.pkr.hcl"),
        siteFile: path.join(root, "templates", "site.pkrvars.hcl"),
        siteExample: path.join(root, "templates", "site.pkrvars.hcl.example"),
        http: path.join(root, "http"),
        ansible: path.join(root, "ansible"),
        scripts: path.join(root, "scripts"),
        keys: path.join(root, "keys"),
        artifacts: path.join(root, "artifacts"),
    };
}
