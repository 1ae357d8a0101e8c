// The command-line layer's parser and help (components/cli/args.ts), without starting any
// command: the wording of every input error, and what --help shows.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { commandHelp, matches, parseCommand, programHelp, UsageError } from "../../components/cli/args";

const SPEC = {
    summary: "Does a thing.",
    options: {
        stack: { help: "the stack to read", required: true, value: "NAME", example: "dev", check: matches(/^[a-z]+$/, "lowercase letters") },
        os: { help: "an OS", multiple: true, value: "ID", choices: () => ["a", "b"] },
        delete: { help: "remove", value: "yes|no", choices: ["yes", "no"] },
        dry: { help: "only look", flag: true },
        list: { help: "list, and nothing else", flag: true, alone: true },
    },
    examples: ["tool --stack dev"],
} as const;

const refused = (argv: string[], message: string) =>
    assert.throws(() => parseCommand(SPEC, argv), (e: Error) => e instanceof UsageError && e.message === message, `${argv.join(" ")} → ${message}`);

test("values: typed by their declaration, given as --name value or --name=value", () => {
    const r = parseCommand(SPEC, ["--stack", "dev", "--os", "a", "--os=b", "--dry"]);
    assert.notEqual(r, "help");
    if (r === "help") return;
    assert.deepEqual(r.values, { stack: "dev", os: ["a", "b"], delete: undefined, dry: true, list: false });
    assert.deepEqual(r.positionals, []);
    // A value is kept as text, whatever it holds.
    const text = parseCommand({ ...SPEC, options: { ...SPEC.options, stack: { help: "any", required: true } } }, ["--stack=$(reboot); `id` ${HOME}", "--delete=no"]);
    assert.ok(text !== "help" && text.values.stack === "$(reboot); `id` ${HOME}" && text.values.delete === "no");
});

test("--help and -h win over anything else, bad options included", () => {
    for (const argv of [["--help"], ["-h"], ["--frob", "--help"], ["--stack", "BAD", "-h"], ["--stack", "--help"], ["--dry", "-xh"]]) assert.equal(parseCommand(SPEC, argv), "help", argv.join(" "));
    // After "--", it is an argument like any other.
    assert.throws(() => parseCommand(SPEC, ["--stack", "dev", "--", "--help"]), /unexpected argument '--help'/);
});

test("every input error names the option, the value and what is valid", () => {
    refused([], "--stack is required unless --list: the stack to read, e.g. --stack dev");
    refused(["--stack", "dev", "--frob"], "unknown option: '--frob' is not valid; valid choices: --stack, --os, --delete, --dry, --list, --help");
    refused(["--stack", "dev", "-x"], "unknown option: '-x' is not valid; valid choices: --stack, --os, --delete, --dry, --list, --help");
    refused(["--stack"], "--stack needs a value (NAME)");
    refused(["--stack", "--dry"], "--stack needs a value (NAME), not '--dry'; a value that starts with '-' is written --stack=--dry");
    refused(["--stack", "Dev"], "--stack: 'Dev' is not valid; it must be lowercase letters");
    refused(["--stack", "dev", "--stack", "prod"], "--stack is given more than once");
    refused(["--stack", "dev", "--os", "c"], "--os: 'c' is not valid; valid choices: a, b");
    refused(["--stack", "dev", "--delete", "maybe"], "--delete: 'maybe' is not valid; valid choices: yes, no");
    refused(["--stack", "dev", "--dry=yes"], "--dry takes no value (given 'yes')");
    refused(["--stack", "dev", "extra"], "unexpected argument 'extra': this command takes options only (--name value)");
});

test("an option marked alone is a whole request: nothing else is required with it", () => {
    const r = parseCommand(SPEC, ["--list"]);
    assert.ok(r !== "help" && r.values.list === true && r.values.stack === undefined);
});

test("positionals: accepted only where declared, and checked against their choices", () => {
    const spec = { summary: "s", options: {}, positionals: { name: "NAME", help: "a bench", choices: () => ["one", "two"] }, examples: ["x one"] } as const;
    const r = parseCommand(spec, ["two", "one"]);
    assert.ok(r !== "help" && r.positionals.join(",") === "two,one");
    assert.throws(() => parseCommand(spec, ["three"]), (e: Error) => e instanceof UsageError && e.message === "NAME: 'three' is not valid; valid choices: one, two");
});

test("a command cannot declare --help: it is the layer's", () => {
    assert.throws(() => parseCommand({ summary: "s", options: { help: { help: "mine" } }, examples: [] }, []), /'help' is the layer's own option/);
});

test("help: usage line, one line per option with its notes, examples", () => {
    const help = commandHelp({ name: "tool", run: "npm run tool --" }, SPEC);
    const lines = help.split("\n");
    assert.equal(lines[0], "usage: npm run tool -- --stack NAME [--os ID]... [--delete yes|no] [--dry] [--list]");
    assert.ok(lines.includes("Does a thing."));
    assert.match(help, /^  --stack NAME +the stack to read \(required unless --list; e\.g\. dev\)$/m);
    assert.match(help, /^  --os ID +an OS \(repeatable; one of: a, b\)$/m);
    assert.match(help, /^  -h, --help +print this help and exit$/m);
    assert.match(help, /^examples:\n  tool --stack dev\n$/m);
    // A subcommand's usage names it.
    assert.match(commandHelp({ name: "store", run: "npm run store --" }, SPEC, "gc"), /^usage: npm run store -- gc --stack NAME /);
});

test("a program of subcommands lists each in one line", () => {
    const help = programHelp({ name: "store", run: "npm run store --", summary: "The store.", examples: ["npm run store -- gc"] }, { gc: { ...SPEC, summary: "collects" }, path: { ...SPEC, summary: "a path" } });
    assert.match(help, /^usage: npm run store -- <command> \[options\]\n/);
    assert.match(help, /^commands:\n  gc +collects\n  path +a path\n/m);
    assert.match(help, /npm run store -- <command> --help/);
});
