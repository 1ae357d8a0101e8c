// Shared by the kickstart tests: a throwaway copy of the recipe's http/ and templates/, a
// build key, and site variables with a repo_server (RHEL OS files need one).
import * as fs from "fs";
import * as path from "path";
import { repoRoot } from "../../components/recipe/paths";
import { loadSite, SiteVars } from "../../components/recipe/site";
import { tempDir } from "./tools";

/** A valid public key made for the tests only (its private half is thrown away). */
export const TEST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPNvVUvvJNhapv5J5TmcItuJluYxaANVsEM5hMfew8gE gold-test-build-key";

export const TEST_REPO_SERVER = "http://repo.example.test/mirror";

export function testSite(root: string = repoRoot): SiteVars {
    return loadSite({ root, overrides: { repo_server: TEST_REPO_SERVER } });
}

/** A copy of http/ and templates/ (plus keys/packer.pub) to change freely. */
export function fixtureRoot(prefix = "ks"): string {
    const root = tempDir(prefix);
    for (const dir of ["http", "templates"]) fs.cpSync(path.join(repoRoot, dir), path.join(root, dir), { recursive: true });
    fs.rmSync(path.join(root, "templates", "site.pkrvars.hcl"), { force: true });
    fs.mkdirSync(path.join(root, "keys"));
    fs.writeFileSync(path.join(root, "keys", "packer.pub"), TEST_KEY + "\n");
    return root;
}

