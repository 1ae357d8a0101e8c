// The project files a user and the Pulumi CLI read: Pulumi.yaml's typed config, pinned tools.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { CHECKS } from "../../components/doctor/checks";
import { parse } from "yaml";
import { declaredConfig } from "../../components/config";
import { listOses } from "../../components/recipe/os";
import { repoRoot } from "../../components/recipe/paths";
import { providerModule, providerNames } from "../../components/providers";

const read = (f: string) => fs.readFileSync(path.join(repoRoot, f), "utf8");

test("Pulumi.yaml: project gold-images on nodejs with typed, described, defaulted config", () => {
    const project = parse(read("Pulumi.yaml"));
    assert.equal(project.name, "gold-images");
    assert.equal(project.runtime.name, "nodejs");
    const config = declaredConfig();
    for (const key of ["version", "oses", "providers", "publish"]) {
        assert.ok(config[key], `config.${key} is declared`);
    }
    const types: Record<string, string> = { string: "string", integer: "number", boolean: "boolean" };
    for (const [key, decl] of Object.entries(config) as [string, any][]) {
        // Pulumi's project schema knows only these four types.
        assert.ok(["string", "integer", "boolean", "array"].includes(decl.type), `${key}: type ${decl.type}`);
        assert.ok(typeof decl.description === "string" && decl.description.length > 10, `${key} has a description`);
        if (decl.secret) {
            // A secret has no default: the CLI refuses it in plain text in the stack file.
            assert.ok(!("default" in decl), `${key}: a secret has no default`);
            continue;
        }
        assert.ok("default" in decl, `${key} has a default`);
        if (decl.type === "array") {
            assert.ok(decl.items?.type, `${key} declares its items`);
            assert.ok(Array.isArray(decl.default), `${key} default is an array`);
        } else {
            assert.equal(typeof decl.default, types[decl.type], `${key} default matches its type`);
        }
    }
    for (const id of config.oses.default as string[]) assert.ok(listOses().includes(id), `default OS ${id} exists`);
    for (const p of config.providers.default as string[]) assert.ok(providerNames().includes(p as never), `default provider ${p}`);
    // Every secret a provider's publisher reads is declared secret.
    for (const name of providerNames()) {
        for (const secret of providerModule(name).secrets ?? []) assert.equal(config[secret]?.secret, true, `${name}'s ${secret} is declared with secret: true`);
    }
});

test("Pulumi.dev.yaml: builds local artifacts only, with OSes and providers that exist", () => {
    const dev = parse(read("Pulumi.dev.yaml")).config;
    assert.equal(dev["gold-images:publish"], false);
    for (const id of dev["gold-images:oses"]) assert.ok(listOses().includes(id), `dev OS ${id} exists`);
    for (const p of dev["gold-images:providers"]) assert.ok(providerNames().includes(p), `dev provider ${p}`);
});

test("package.json pins @pulumi/command 1.2.1 and a TypeScript that ts-node can load", () => {
    const pkg = JSON.parse(read("package.json"));
    assert.equal(pkg.dependencies["@pulumi/command"], "1.2.1");
    for (const dep of ["@pulumi/pulumi", "@pulumi/aws", "@pulumi/azure-native", "@pulumi/gcp", "@pulumi/openstack", "@pulumi/docker"]) {
        assert.ok(pkg.dependencies[dep], `${dep} is a dependency`);
    }
    // TypeScript 7 is the native compiler without the JS API that ts-node needs.
    assert.match(pkg.devDependencies.typescript, /^[~^]?5\./);
    assert.ok(pkg.devDependencies["ts-node"]);
    const lock = JSON.parse(read("package-lock.json"));
    assert.equal(lock.packages["node_modules/@pulumi/command"].version, "1.2.1");
});

test("keys/ and artifacts/ are never committed", () => {
    const ignored = read(".gitignore").split("\n");
    for (const entry of ["/keys", "artifacts/"]) assert.ok(ignored.includes(entry), `.gitignore has ${entry}`);
});

/** The packages of the first `apt-get install` in a text (continuation lines joined). */
function aptPackages(text: string): string[] {
    const m = /apt-get\b[^\n]*\binstall\b((?:[^\n]*\\\n)*[^\n]*)/.exec(text);
    assert.ok(m, "an apt-get install line");
    return m[1].replace(/\\\n/g, " ").split(/\s+/).filter((w) => /^[a-z0-9][a-z0-9+.-]+$/.test(w)).sort();
}

/** The Debian packages a doctor's fix names first (`apt-get install A B, or …`). */
function fixPackages(fix: string): string[] {
    const m = /^apt-get install ([a-z0-9+. -]+?)(?:[,(]|$)/.exec(fix);
    return m ? m[1].trim().split(/\s+/) : [];
}

test("one package list: the README's set-up, CI and the workflow's build jobs all run scripts/install-tools.sh, which installs every package the doctor's fixes name", () => {
    const readme = read("README.md");
    const ci = read(".ci/run");
    const action = read(".github/actions/build-tools/action.yml");
    assert.match(readme, /```sh\nscripts\/install-tools\.sh[^\n]*\nnpm ci\nnpm test\n```/);
    assert.match(ci, /^scripts\/install-tools\.sh\nnpm ci\b.*\nnpm test$/m);
    assert.match(action, /scripts\/install-tools\.sh/);
    const setUp = /\*\*Set up and run every test\*\*[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    assert.ok(setUp.includes("npm test"), "the README's set-up block");
    for (const text of [setUp, ci, action]) assert.doesNotMatch(text, /apt-get\b[^\n]*\binstall/, "no second package list");
    const installed = aptPackages(read("scripts/install-tools.sh"));
    const named = Object.values(CHECKS).flatMap((c) => fixPackages(c.fix));
    assert.ok(named.includes("packer") && named.includes("swtpm"), named.join(" "));
    assert.deepEqual(named.filter((p) => !installed.includes(p)), []);
    // Negative control: a package the doctor names and the list forgot is seen.
    const forgot = aptPackages(read("scripts/install-tools.sh").replace(" swtpm util-linux", " util-linux"));
    assert.deepEqual(named.filter((p) => !forgot.includes(p)), ["swtpm"]);
});
