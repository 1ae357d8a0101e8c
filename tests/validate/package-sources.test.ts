// Where every package a role installs comes from (ansible/package-sources.yml, per OS, each
// place with the public source it was taken from): a role that installs a package the table
// does not place in a repository its OS configures — its OS file's install tree ("os") and
// extra_repos, or a repository the role adds itself — fails here, not in a build hours later.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { providerNames } from "../../components/providers";
import { listOses, loadOs } from "../../components/recipe/os";
import { repoRoot } from "../../components/recipe/paths";

interface Place {
    packages: string[];
    source: string;
    read: string;
    unverified?: string;
}
interface Table {
    /** Repositories a role adds itself (e.g. gcp: Google's), per role and OS family. */
    role_repos: Record<string, Record<string, string[]>>;
    oses: Record<string, Record<string, Place>>;
}

const table = parse(fs.readFileSync(path.join(repoRoot, "ansible", "package-sources.yml"), "utf8")) as Table;
const roles = ["base", "cleanup", ...providerNames()];

/** The packages a role installs on an OS: its vars' *_packages lists (EL7-only lists on EL7 only). */
function packagesOf(role: string, family: "Debian" | "RedHat", el7: boolean): string[] {
    const file = path.join(repoRoot, "ansible", "roles", role, "vars", `${family}.yml`);
    if (!fs.existsSync(file)) return [];
    const vars = parse(fs.readFileSync(file, "utf8")) ?? {};
    const out: string[] = [];
    for (const [key, value] of Object.entries(vars)) {
        if (!key.endsWith("_packages")) continue;
        if (key.endsWith("_el7_packages") && !el7) continue;
        assert.ok(Array.isArray(value) && value.every((p) => typeof p === "string"), `ansible/roles/${role}/vars/${family}.yml: ${key} must be a plain list of package names (this check reads it)`);
        out.push(...(value as string[]));
    }
    return out;
}

test("every place in the table names its public source and when it was read", () => {
    for (const [os, repos] of Object.entries(table.oses)) {
        assert.ok(listOses().includes(os), `package-sources.yml: ${os} is not an OS of templates/os`);
        for (const [repo, place] of Object.entries(repos)) {
            assert.ok(place.source && place.source.length > 20, `${os}/${repo}: a source`);
            assert.match(String(place.read), /^\d{4}-\d{2}-\d{2}$/, `${os}/${repo}: the date it was read`);
            assert.ok(Array.isArray(place.packages) && place.packages.length > 0, `${os}/${repo}: packages`);
        }
    }
});

test("every package a role installs comes from a repository its OS configures", () => {
    const problems: string[] = [];
    for (const id of listOses()) {
        const os = loadOs(id);
        const family = os.os_name === "Debian" ? "Debian" : "RedHat";
        const places = table.oses[id];
        if (!places) {
            problems.push(`${id}: not in ansible/package-sources.yml`);
            continue;
        }
        for (const role of roles) {
            const configured = ["os", ...Object.keys(os.extra_repos), ...(table.role_repos[role]?.[family] ?? [])];
            for (const pkg of packagesOf(role, family, os.os_major === 7)) {
                const place = Object.entries(places).find(([, p]) => p.packages.includes(pkg));
                if (!place) problems.push(`${id}: role ${role} installs ${pkg}, which the table places nowhere`);
                else if (!configured.includes(place[0])) problems.push(`${id}: role ${role} installs ${pkg} from ${place[0]}, which ${id} does not configure (it has ${configured.join(", ")})`);
            }
        }
    }
    assert.deepEqual(problems, []);
});

test("a repository a role adds is one the role really adds", () => {
    for (const [role, families] of Object.entries(table.role_repos)) {
        const tasks = fs.readFileSync(path.join(repoRoot, "ansible", "roles", role, "tasks", "main.yml"), "utf8");
        for (const repos of Object.values(families)) for (const repo of repos) assert.match(tasks, new RegExp(`name: ${repo}\\b`), `${role} adds ${repo}`);
    }
});
