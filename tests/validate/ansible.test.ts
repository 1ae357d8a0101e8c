// The Ansible side of the recipe: site.yml parses for every stage, ansible-lint passes with the
// repository's configuration (production profile), every provider has a role, and site.yml's
// own checks really run (bad build name, bad stage, injected failure) on localhost — they are
// tagged gold_validate so that nothing else of the playbook runs here.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { spawnSync, SpawnSyncReturns } from "node:child_process";
import { parse as parseYaml } from "yaml";
import { providerNames } from "../../components/providers";

const root = path.resolve(__dirname, "..", "..");
const ansibleDir = path.join(root, "ansible");
const playbook = path.join(ansibleDir, "site.yml");
const STAGES = ["base", "variant", "full"];

function have(tool: string): boolean {
    return spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).status === 0;
}

function run(cmd: string, args: string[], timeoutMs = 120_000): SpawnSyncReturns<string> {
    const localTmp = fs.mkdtempSync(path.join(os.tmpdir(), "gold-ansible-"));
    try {
        return spawnSync(cmd, args, {
            cwd: root,
            encoding: "utf8",
            timeout: timeoutMs,
            stdio: ["ignore", "pipe", "pipe"],
            env: {
                ...process.env,
                ANSIBLE_NOCOLOR: "1",
                ANSIBLE_FORCE_COLOR: "0",
                ANSIBLE_RETRY_FILES_ENABLED: "0",
                ANSIBLE_LOCAL_TEMP: localTmp,
                PY_COLORS: "0",
                NO_COLOR: "1",
            },
        });
    } finally {
        fs.rmSync(localTmp, { recursive: true, force: true });
    }
}

const output = (r: SpawnSyncReturns<string>) => `${r.stdout ?? ""}\n${r.stderr ?? ""}`;

/** Runs only site.yml's checks (tasks tagged gold_validate), for real, on localhost. */
function validate(extraVars: Record<string, string | boolean>): SpawnSyncReturns<string> {
    return run("ansible-playbook", [
        "-i", "localhost,", "-c", "local", playbook,
        "--tags", "gold_validate",
        "-e", JSON.stringify(extraVars),
    ]);
}

const noAnsible = have("ansible-playbook") ? false : "ansible-playbook is not installed";

for (const stage of STAGES) {
    test(`site.yml passes --syntax-check for packer_stage=${stage}`, { skip: noAnsible }, () => {
        const build = stage === "base" ? "base" : "aws";
        const r = run("ansible-playbook", [
            "--syntax-check", "-i", "localhost,", playbook,
            "-e", JSON.stringify({ packer_stage: stage, packer_build_name: build }),
        ]);
        assert.equal(r.status, 0, output(r));
    });
}

test("ansible-lint passes with the repository configuration", { skip: have("ansible-lint") ? false : "ansible-lint is not installed" }, () => {
    const config = parseYaml(fs.readFileSync(path.join(root, ".ansible-lint"), "utf8"));
    assert.equal(config.profile, "production");
    assert.equal(config.offline, true);
    assert.ok((config.exclude_paths as string[]).some((p) => p.startsWith("node_modules")), "node_modules must be excluded");
    const r = run("ansible-lint", ["--nocolor"], 300_000);
    assert.equal(r.status, 0, output(r));
});

test("every provider has a role with tasks, meta and per-family vars", () => {
    assert.ok(providerNames().length > 0);
    for (const role of ["base", "cleanup", ...providerNames()]) {
        for (const file of ["tasks/main.yml", "meta/main.yml", "vars/RedHat.yml", "vars/Debian.yml"]) {
            const p = path.join(ansibleDir, "roles", role, file);
            assert.ok(fs.existsSync(p), `missing ${path.relative(root, p)}`);
        }
        const tasks = fs.readFileSync(path.join(ansibleDir, "roles", role, "tasks", "main.yml"), "utf8");
        assert.match(tasks, /include_vars:\s*"\{\{ ansible_os_family \}\}\.yml"/, `${role} must load vars per OS family`);
    }
});

test("group_vars gives a default to every variable Packer passes, and lists no providers", () => {
    const vars = parseYaml(fs.readFileSync(path.join(ansibleDir, "group_vars", "all.yml"), "utf8"));
    // The providers are the roles: a list here would be one more place to name them.
    for (const p of providerNames()) assert.ok(!JSON.stringify(vars).includes(`"${p}"`), `group_vars names ${p}`);
    // Defaults for every variable Packer passes (bare-metal runs pass none of them).
    for (const v of ["packer_build_name", "packer_stage", "packer_os", "packer_namespace",
        "packer_locale", "packer_keyboard", "packer_timezone", "packer_repo_server", "repo_server", "gold_inject_failure"]) {
        assert.ok(v in vars, `group_vars/all.yml must give ${v} a default`);
    }
    assert.equal(vars.repo_server, "{{ packer_repo_server }}");
    // No version reaches a build: every version of a recipe shares its stages (their fingerprints have none).
    assert.ok(!("packer_version" in vars), "group_vars/all.yml must not define packer_version");
    const locals = fs.readFileSync(path.join(ansibleDir, "..", "templates", "locals.pkr.hcl"), "utf8");
    assert.doesNotMatch(locals, /packer_version/, "Packer passes no packer_version to Ansible");
});

test("only ansible.builtin and ansible.posix modules, by their FQCN", () => {
    const files: string[] = [];
    const walk = (dir: string) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, e.name);
            if (e.isDirectory()) walk(p);
            else if (/\.ya?ml$/.test(e.name) && /(tasks|handlers)$/.test(path.dirname(p))) files.push(p);
        }
    };
    walk(path.join(ansibleDir, "roles"));
    files.push(playbook);
    for (const file of files) {
        for (const m of fs.readFileSync(file, "utf8").matchAll(/^\s*-?\s*([a-z_][\w.]*):/gm)) {
            const key = m[1];
            if (key.includes(".")) assert.match(key, /^ansible\.(builtin|posix)\./, `${path.relative(root, file)}: ${key}`);
        }
    }
});

test("site.yml accepts every valid build name and stage (checks run on localhost)", { skip: noAnsible }, () => {
    // One run: one local host per build name, each with its own variables.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gold-inventory-"));
    try {
        const hosts = ["base", ...providerNames()].flatMap((build) =>
            (build === "base" ? ["base", "full"] : ["variant", "full"]).map(
                (stage) => `${build}-${stage} ansible_connection=local ansible_python_interpreter=auto_silent packer_build_name=${build} packer_stage=${stage}`,
            ),
        );
        const inventory = path.join(dir, "hosts");
        fs.writeFileSync(inventory, hosts.join("\n") + "\n");
        const r = run("ansible-playbook", ["-i", inventory, playbook, "--tags", "gold_validate"]);
        assert.equal(r.status, 0, output(r));
        assert.match(r.stdout, new RegExp(`ok=\\d+`));
        for (const host of hosts.map((h) => h.split(" ")[0])) {
            assert.match(r.stdout, new RegExp(`^${host}\\s+: ok=[1-9]\\d* .*failed=0`, "m"), `${host} must pass:\n${r.stdout}`);
        }
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("site.yml rejects a bad packer_build_name, naming the valid ones", { skip: noAnsible }, () => {
    const r = validate({ packer_build_name: "amiga", packer_stage: "full" });
    assert.notEqual(r.status, 0, output(r));
    const out = output(r);
    assert.match(out, /packer_build_name='amiga'/);
    for (const name of ["base", ...providerNames()]) assert.ok(out.includes(name), `message must name ${name}:\n${out}`);
});

test("site.yml rejects a bad packer_stage and a variant of base", { skip: noAnsible }, () => {
    const bad = validate({ packer_build_name: "aws", packer_stage: "half" });
    assert.notEqual(bad.status, 0, output(bad));
    assert.match(output(bad), /Valid packer_stage values: base, variant, full/);
    const variantOfBase = validate({ packer_build_name: "base", packer_stage: "variant" });
    assert.notEqual(variantOfBase.status, 0, output(variantOfBase));
});

test("gold_inject_failure makes the build fail with a clear message", { skip: noAnsible }, () => {
    const r = validate({ packer_build_name: "base", packer_stage: "base", gold_inject_failure: true });
    assert.notEqual(r.status, 0, output(r));
    assert.match(output(r), /gold_inject_failure is set: failing the build on purpose/);
});

test("site and OS values reach Ansible tagged !unsafe: a value holding Jinja is data, never run on the build host", { skip: noAnsible || (have("packer") ? false : "packer is not installed") }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gold-unsafe-"));
    try {
        const planted = path.join(dir, "ran");
        const jinja = `{{ lookup('pipe', 'touch ${planted}') }}`;
        // What the ansible provisioner receives, from the templates themselves (packer console):
        // with values that the program refuses, to show that Ansible would not run them anyway.
        const consoled = spawnSync("packer", ["console", "-var-file=templates/os/Rocky-9.8.pkrvars.hcl", `-var=locale=${jinja}`, `-var=repo_server=http://x/${jinja}`, "templates"], {
            cwd: root,
            input: "local.ansible_unsafe_vars\n",
            encoding: "utf8",
        });
        assert.equal(consoled.status, 0, consoled.stderr);
        const extraVars = consoled.stdout.trim().split("\n").pop()!;
        assert.match(extraVars, /"packer_locale": !unsafe /);
        const play = path.join(dir, "use.yml");
        // The values used the way the roles use them: inside templates and filters.
        fs.writeFileSync(
            play,
            [
                "- hosts: localhost",
                "  gather_facts: false",
                "  tasks:",
                "    - ansible.builtin.copy:",
                `        dest: ${path.join(dir, "out")}`,
                '        content: "{{ packer_locale }}|{{ packer_repo_server }}|{{ (gold_os_defaults | default({})) | combine(packer_os) | to_json }}"',
                "        mode: '0644'",
            ].join("\n") + "\n",
        );
        const r = run("ansible-playbook", ["-i", "localhost,", "-c", "local", play, "-e", extraVars]);
        assert.equal(r.status, 0, output(r));
        assert.ok(!fs.existsSync(planted), "the Jinja in a site value ran on the build host");
        const out = fs.readFileSync(path.join(dir, "out"), "utf8");
        assert.ok(out.startsWith(`${jinja}|http://x/${jinja}|`), out);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});
