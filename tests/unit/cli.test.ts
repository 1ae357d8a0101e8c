// Every command-line tool answers alike (components/cli/args.ts): --help on stdout with exit 0,
// bad input as ONE line `<cmd>: <message>` on stderr with exit 2, naming the option. The
// commands are found, not remembered: package.json's scripts, and every TypeScript file of
// scripts/ and components/ that reads process.argv; one missing from the table fails the test.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "../../components/recipe/paths";
import { pool, run, RunResult, tempDir } from "../support/tools";

/** What a run must give: its exit code, and what its output must (and must not) hold. */
interface Expect {
    /** The exit code, or the codes allowed where the answer is this machine's (the doctor's verdict). */
    readonly code: number | readonly number[];
    readonly stdout?: RegExp;
    readonly stderr?: RegExp;
    /** Must appear in neither stdout nor stderr. */
    readonly absent?: RegExp;
    /** Bad input: stdout empty, stderr one line starting with the command's name. */
    readonly usageError?: boolean;
}

interface Case extends Expect {
    readonly args: string[];
    readonly env?: Record<string, string>;
}

interface Row {
    /** Its messages' prefix. */
    readonly name: string;
    /** A package.json script, run as npm runs it; or a file, run as the program's commands run it. */
    readonly script?: string;
    readonly file?: string;
    /** With no arguments: its documented answer, or why it is not run here. */
    readonly noArgs: Omit<Case, "args"> | { readonly notRun: string };
    /** One bad argument, and what the error must name. */
    readonly bad: { readonly args: string[]; readonly names: RegExp };
    readonly more?: Case[];
}

/** package.json scripts that are not command-line tools: they run the tests and the type check. */
const NOT_TOOLS: Record<string, string> = {
    build: "the type check (tsc)",
    test: "runs every test",
    "test:unit": "runs tests (this one among them)",
    validate: "runs tests",
    e2e: "runs the end-to-end test",
    "test:e2e-support": "runs tests",
};

const work = tempDir("cli");
const missingDir = path.join(work, "no-such-store");
const notStore = path.join(work, "not-a-store");
fs.mkdirSync(notStore);
fs.writeFileSync(path.join(notStore, "notes.txt"), "not a store\n");
const emptyStore = path.join(work, "empty-store");
fs.mkdirSync(emptyStore);
const usedStore = path.join(work, "used-store");
fs.mkdirSync(path.join(usedStore, "stages"), { recursive: true });
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const benches = fs.readdirSync(path.join(repoRoot, "tests", "bench")).filter((f) => f.endsWith(".bench.ts")).map((f) => f.slice(0, -".bench.ts".length)).sort();

const ROWS: Row[] = [
    {
        name: "stage",
        script: "stage",
        noArgs: { code: 2, usageError: true, stderr: /^stage: --stack is required: the stack whose Pulumi\.<stack>\.yaml to read, e\.g\. --stack dev/ },
        bad: { args: ["--stak", "dev"], names: /unknown option: '--stak' is not valid; valid choices: --stack, / },
        more: [
            { args: ["--stack", "a b"], code: 2, usageError: true, stderr: /^stage: --stack: 'a b' is not valid; it must be a stack name/ },
            { args: ["--stack", "dev", "--os", "Nope-1"], code: 2, usageError: true, stderr: /^stage: --os: 'Nope-1' is not in the stack's oses; valid choices: / },
            { args: ["--stack", "no-such-stack", "--list"], code: 2, usageError: true, stderr: /^stage: --stack 'no-such-stack': Pulumi\.no-such-stack\.yaml does not exist/ },
        ],
    },
    {
        name: "store",
        script: "store",
        noArgs: { code: 2, usageError: true, stderr: /^store: a command is required; valid choices: run, update, path, fetch, place, export, remove, ref, unref, gc / },
        bad: { args: ["gc", "--store", emptyStore, "--dleete", "yes"], names: /^store gc: unknown option: '--dleete' is not valid; valid choices: --store, --min-age-hours, --delete, / },
        more: [
            { args: ["--help"], code: 0, stdout: /^commands:\n  run +\S.*\n(  \S+ +\S.*\n){8}  gc +\S.*\n/m },
            { args: ["gc", "--help"], code: 0, stdout: /^usage: npm run store -- gc --store URL \[--min-age-hours N\] \[--delete yes\|no\]/, absent: /--fingerprint/ },
            { args: ["frob"], code: 2, usageError: true, stderr: /^store: unknown command: 'frob' is not valid; valid choices: run, / },
            { args: ["path", "--store", emptyStore, "--fingerprint", "abc"], code: 2, usageError: true, stderr: /^store path: --fingerprint: 'abc' is not valid; it must be a stage fingerprint \(64 lowercase hex digits\)/ },
            { args: ["gc", "--store", missingDir], code: 2, usageError: true, stderr: new RegExp(`^store gc: --store: ${esc(missingDir)} does not exist`) },
            { args: ["gc", "--store", notStore], code: 2, usageError: true, stderr: new RegExp(`^store gc: --store: ${esc(notStore)} is not an artifact store: it has none of stages/, blobs/, refs/`) },
            { args: ["gc", "--store", emptyStore], code: 0, stdout: /^\{"referenced":0,"stages":\{"kept":0,"removed":\[\],"usedMeanwhile":\[\]\}/ },
            { args: ["gc", "--store", usedStore, "--delete", "maybe"], code: 2, usageError: true, stderr: /^store gc: --delete: 'maybe' is not valid; valid choices: yes, no/ },
            { args: ["gc", "--store", usedStore], code: 0, stdout: /"deleted":false/ },
        ],
    },
    {
        name: "first-boot",
        script: "first-boot",
        noArgs: { code: 2, usageError: true, stderr: /^first-boot: --provider is required: / },
        bad: { args: ["--provider", "nope", "--image", "x"], names: /^first-boot: --provider: 'nope' is not valid; valid choices: aws, azure, / },
        more: [{ args: ["--provider", "aws", "--image", missingDir], code: 2, usageError: true, stderr: /^first-boot: --image: \S+ is not a file/ }],
    },
    {
        name: "ks",
        script: "ks",
        noArgs: { code: 2, usageError: true, stderr: /^ks: --build is required unless --list: / },
        bad: { args: ["--frobnicate"], names: /^ks: unknown option: '--frobnicate' is not valid; valid choices: --build, / },
    },
    {
        name: "ks-server",
        script: "ks-server",
        noArgs: { notRun: "it starts the server (tests/unit/ks-server.test.ts starts one and stops it)" },
        bad: { args: ["--port", "99999"], names: /^ks-server: --port: '99999' is not valid; it must be a port number/ },
        more: [{ args: ["--ssh-key", missingDir], code: 2, usageError: true, stderr: /^ks-server: --ssh-key: \S+ is not a file/ }],
    },
    {
        name: "doctor",
        script: "doctor",
        // The dev stack on this machine: the table whole, its verdict this machine's (KVM or not).
        noArgs: { code: [0, 1], stdout: /^stack dev: Rocky-9\.8; aws, [^\n]*\n(?:(?:ok     |MISSING|warn   ) [^\n]*\n(?: +fix: [^\n]*\n)?)+(ready to build\.|\d+ missing: [^\n]*)\n$/ },
        bad: { args: ["--stak", "dev"], names: /^doctor: unknown option: '--stak' is not valid; valid choices: --stack, --json, --help/ },
        more: [{ args: ["--stack", "nope"], code: 2, stderr: /^doctor: --stack 'nope': Pulumi\.nope\.yaml does not exist .*stacks here: dev\n$/ }],
    },
    {
        name: "gen-keys.sh",
        script: "keys",
        noArgs: { code: 0, env: { GOLD_KEYS_DIR: path.join(work, "keys") }, stdout: new RegExp(`^gen-keys\\.sh: created ${esc(work)}/keys/packer and ${esc(work)}/keys/packer\\.pub\\n`) },
        bad: { args: ["--forse"], names: /^gen-keys\.sh: unknown argument '--forse'/ },
    },
    {
        name: "bench",
        script: "bench",
        // A list, not the hour-long providers bench: one line per bench, its name and what it measures.
        noArgs: { code: 0, stdout: new RegExp(`^${benches.map((b) => `${b} +\\S[^\\n]*\\n`).join("")}$`) },
        bad: { args: ["--frob"], names: /^bench: unknown option: '--frob' is not valid; valid choices: --all, --help/ },
        more: [{ args: ["nope"], code: 2, usageError: true, stderr: new RegExp(`^bench: NAME: 'nope' is not valid; valid choices: ${benches.join(", ")} `) }],
    },
    {
        name: "vagrant-catalog",
        file: "scripts/vagrant-catalog.ts",
        noArgs: { code: 2, usageError: true, stderr: /^vagrant-catalog: a command is required; valid choices: add, remove / },
        bad: { args: ["remove", "--catalog", "c.json", "--version", "1.0.0", "--url", "x"], names: /^vagrant-catalog remove: unknown option: '--url' is not valid; / },
        more: [{ args: ["add", "--help"], code: 0, stdout: /^usage: ts-node scripts\/vagrant-catalog\.ts add --catalog FILE --name NS\/BOX / }],
    },
    {
        name: "build-proxy",
        file: "scripts/build-proxy.ts",
        noArgs: { code: 2, usageError: true, stderr: /^build-proxy: a command is required; valid choices: serve, forward / },
        bad: { args: ["forward", "--socket", "s", "--port", "http"], names: /^build-proxy forward: --port: 'http' is not valid; it must be a port number/ },
        more: [
            { args: ["serve", "--help"], code: 0, stdout: /^usage: ts-node scripts\/build-proxy\.ts serve --ready DIR \[PACKER_OPTIONS\.\.\.\]/ },
            { args: ["serve", "--", "-var-file=x"], code: 2, usageError: true, stderr: /^build-proxy serve: --ready is required/ },
            // A mirror the proxy cannot serve stops the build before it starts, naming the variable.
            { args: ["serve", "--ready", "/nonexistent", "--", "-var=repo_server=ftp://mirror.example.com/repos"], code: 2, usageError: true, stderr: /^build-proxy: build network: repo_server = 'ftp:\/\/mirror\.example\.com\/repos' is ftp/ },
        ],
    },
    {
        name: "glance-image",
        file: "components/providers/openstack/glance-image.ts",
        noArgs: { code: 2, usageError: true, stderr: /^glance-image: a command is required; valid choices: create, delete / },
        bad: { args: ["delete", "--created"], names: /^glance-image delete: --created needs a value \(JSON\)/ },
    },
    {
        name: "upload-page-blob",
        file: "components/providers/azure/upload-page-blob.ts",
        noArgs: { code: 2, usageError: true, stderr: /^upload-page-blob: a command is required; valid choices: upload, delete / },
        bad: { args: ["upload", "--file", "d.vhd", "--container", "c1x", "--blob", "b", "--concurrency", "many"], names: /^upload-page-blob upload: --concurrency: 'many' is not valid; / },
    },
];

const scripts = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")).scripts as Record<string, string>;

/** A row's command line: the package.json script as npm runs it (sh -c, node_modules/.bin on PATH), or ts-node on the file as the program's commands run theirs. */
function invocation(row: Row): [string, string[]] {
    if (row.script) return ["sh", ["-c", `${scripts[row.script]} "$@"`, row.script]];
    return [path.join(repoRoot, "node_modules/.bin/ts-node"), ["--transpile-only", row.file!]];
}

function runRow(row: Row, c: Case): Promise<RunResult> {
    const [cmd, pre] = invocation(row);
    const env = { ...process.env, PATH: `${path.join(repoRoot, "node_modules/.bin")}:${process.env.PATH}`, TS_NODE_TRANSPILE_ONLY: "true", ...c.env };
    return run(cmd, [...pre, ...c.args], { cwd: repoRoot, env });
}

/** What is wrong with a run, or nothing. */
function problems(name: string, e: Expect, r: RunResult): string[] {
    const out: string[] = [];
    if (!(typeof e.code === "number" ? [e.code] : e.code).includes(r.code ?? -1)) out.push(`exit ${r.code}, not ${e.code}`);
    if (e.stdout && !e.stdout.test(r.stdout)) out.push(`stdout does not match ${e.stdout}`);
    if (e.stderr && !e.stderr.test(r.stderr)) out.push(`stderr does not match ${e.stderr}`);
    if (e.absent && e.absent.test(r.stdout + r.stderr)) out.push(`the output has ${e.absent}`);
    if (e.usageError) {
        if (r.stdout !== "") out.push("stdout is not empty");
        if (!/^[^\n]+\n$/.test(r.stderr)) out.push("stderr is not one line");
        if (!r.stderr.startsWith(`${name}: `) && !r.stderr.startsWith(`${name} `)) out.push(`stderr does not start with '${name}: '`);
        if (/\n\s+at /.test(r.stderr)) out.push("stderr has a stack trace");
    }
    return out;
}

const HELP: Expect = { code: 0, stdout: /^usage: /m, stderr: /^$/ };

/** Every case of a row, with what it must give. */
function cases(row: Row): Case[] {
    return [
        // (-h is the same option to the parser: tests/unit/cli-args.test.ts.)
        { args: ["--help"], ...HELP },
        ...("notRun" in row.noArgs ? [] : [{ args: [], ...row.noArgs }]),
        { args: row.bad.args, code: 2, usageError: true, stderr: row.bad.names },
        ...(row.more ?? []),
    ];
}

test("every package.json script and every file that reads process.argv is in the table", () => {
    const inTable = new Set(ROWS.map((r) => r.script).filter(Boolean));
    for (const name of Object.keys(scripts)) assert.ok(inTable.has(name) || name in NOT_TOOLS, `npm run ${name}: add it to the table of tests/unit/cli.test.ts (or to NOT_TOOLS with why)`);
    for (const name of [...inTable, ...Object.keys(NOT_TOOLS)]) assert.ok(name! in scripts, `${name} is no longer a script of package.json`);
    // The files the scripts run, and every other TypeScript file that reads its arguments.
    const covered = new Set([...ROWS.map((r) => r.file), ...ROWS.filter((r) => r.script).map((r) => scripts[r.script!].split(" ").find((w) => /\.(ts|sh)$/.test(w)))]);
    const readers: string[] = [];
    const walk = (dir: string) => {
        for (const e of fs.readdirSync(path.join(repoRoot, dir), { withFileTypes: true })) {
            const rel = path.join(dir, e.name);
            if (e.isDirectory()) walk(rel);
            else if (e.name.endsWith(".ts") && fs.readFileSync(path.join(repoRoot, rel), "utf8").includes("process.argv")) readers.push(rel);
        }
    };
    walk("scripts");
    walk("components");
    assert.ok(readers.length >= 8, `found only ${readers.join(", ")}: the walk is broken`);
    assert.deepEqual(readers.filter((f) => !covered.has(f)), [], "command-line files missing from the table");
});

test("the checker fails what it must fail (a negative control)", async () => {
    const node = (code: string) => run(process.execPath, ["-e", code]);
    // A command that refuses --help.
    assert.match(problems("x", HELP, await node("process.stderr.write('x: no\\n'); process.exit(1)")).join("; "), /exit 1, not 0; stdout does not match/);
    // Bad input answered on two lines, with exit 1 and a stack trace.
    const bad = await node("throw new Error('x: bad --thing')");
    assert.deepEqual(
        problems("x", { code: 2, usageError: true, stderr: /--thing/ }, bad).filter((p) => !p.startsWith("stderr does not start")),
        ["exit 1, not 2", "stderr is not one line", "stderr has a stack trace"],
    );
    // And passes a good answer.
    assert.deepEqual(problems("x", { code: 2, usageError: true, stderr: /--thing/ }, await node("process.stderr.write('x: --thing is wrong\\n'); process.exit(2)")), []);
});

test("every command: --help, no arguments, one bad argument (and its own cases)", async (t) => {
    const all = ROWS.flatMap((row) => cases(row).map((c) => ({ row, c })));
    // Each start costs ts-node's start-up: two at a time (the machine has 2 cores).
    const results = await pool(all, 2, ({ row, c }) => runRow(row, c));
    for (const row of ROWS) {
        await t.test(row.name, () => {
            const found = all.flatMap(({ row: r, c }, i) => (r === row ? problems(row.name, c, results[i]).map((p) => `${row.name} ${c.args.join(" ")}: ${p}\n  stdout: ${results[i].stdout.slice(0, 300)}\n  stderr: ${results[i].stderr.slice(0, 300)}`) : []));
            assert.deepEqual(found, []);
        });
    }
});

test("stage: a config error is one line on stderr with exit 2, found before anything runs", async (t) => {
    const cases: [string, RegExp][] = [
        ["  gold-images:parallelBuilds: -3\n", /^stage: config parallelBuilds: -3 is not valid; it must be [^\n]+\n$/],
        ["  gold-images:oses: [Nope-1]\n", /^stage: config oses: 'Nope-1' is not valid; valid choices: [^\n]*Rocky-9\.8[^\n]*\n$/],
    ];
    for (const [i, [config, message]] of cases.entries()) {
        const stack = `cli-test-${process.pid}-${i}`;
        const file = path.join(repoRoot, `Pulumi.${stack}.yaml`);
        fs.writeFileSync(file, `config:\n${config}`);
        try {
            const r = await runRow(ROWS.find((row) => row.name === "stage")!, { args: ["--stack", stack], code: 2 });
            await t.test(config.trim(), () => {
                assert.deepEqual(problems("stage", { code: 2, usageError: true, stderr: message }, r), [], r.stderr);
                assert.ok(!fs.existsSync(path.join(repoRoot, "artifacts", "stage-logs", stack)), "nothing started: no log directory");
            });
        } finally {
            fs.rmSync(file, { force: true });
        }
    }
});
