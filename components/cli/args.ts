// The one command-line layer of every script and helper CLI. A command declares its options
// once; from that declaration come its parser, its --help and its input errors, so that every
// command answers alike: --help/-h prints usage, options and examples on stdout (exit 0); bad
// input is ONE line `<cmd>: <message>` on stderr naming the option (and the valid choices)
// (exit 2); a failure is `<cmd>: <message>` (exit 1). Values stay strings: none is evaluated.
import { parseArgs } from "util";
import { badChoice, shown } from "../recipe/choices";

export interface OptionSpec {
    /** One line: what the option is (its help line, and the error when it is required and missing). */
    readonly help: string;
    /** A switch without a value (false when absent). */
    readonly flag?: boolean;
    /** May be given more than once (a list, empty when absent). */
    readonly multiple?: boolean;
    readonly required?: boolean;
    /** A switch that is a whole request by itself (e.g. --list): with it, no option is required. */
    readonly alone?: boolean;
    /** The value's name in the usage line, e.g. URL (default: the option's name in capitals). */
    readonly value?: string;
    /** An example value: shown in help and in the error when a required option is missing. */
    readonly example?: string;
    /** The valid values; a function when they are read from the recipe (read only when needed). */
    readonly choices?: readonly string[] | (() => readonly string[]);
    /** What is wrong with a value, or undefined when nothing is (see matches()). */
    readonly check?: (value: string) => string | undefined;
}

export interface CommandSpec {
    /** One line: what the command does. */
    readonly summary: string;
    readonly options: Readonly<Record<string, OptionSpec>>;
    /** Arguments that are not options (absent: none is accepted). */
    readonly positionals?: { readonly name: string; readonly help: string; readonly choices?: () => readonly string[] };
    /** Whole command lines, as a user types them. */
    readonly examples: readonly string[];
}

export interface Program {
    /** What its messages start with: `<name>: …`. */
    readonly name: string;
    /** How a user runs it, e.g. "npm run stage --". */
    readonly run: string;
}

/** A command of subcommands (store, vagrant-catalog, …): its own summary and examples. */
export interface SubcommandProgram extends Program {
    readonly summary: string;
    readonly examples: readonly string[];
}

type ValueOf<S> = S extends { flag: true } ? boolean : S extends { multiple: true } ? string[] : S extends { required: true } ? string : string | undefined;
export type Values<O> = { -readonly [K in keyof O]: ValueOf<O[K]> };
export interface Parsed<S extends CommandSpec> {
    readonly values: Values<S["options"]>;
    readonly positionals: string[];
}

/** Bad input: exit 2. Thrown by the parser, and by a command for what only it can judge. */
export class UsageError extends Error {}

/** A check: the value matches `re` (or passes the test), else "'<value>' is not valid; it must be <rule>". */
export function matches(re: RegExp | ((value: string) => boolean), rule: string): (value: string) => string | undefined {
    const ok = typeof re === "function" ? re : (value: string) => re.test(value);
    return (value) => (ok(value) ? undefined : `${shown(value, "'")} is not valid; it must be ${rule}`);
}

function choicesOf(c: OptionSpec["choices"]): readonly string[] | undefined {
    return typeof c === "function" ? c() : c;
}

const placeholder = (name: string, o: OptionSpec) => o.value ?? name.toUpperCase();
const own = (o: object, key: string) => Object.prototype.hasOwnProperty.call(o, key);

/** Parses argv against a command's options; "help" when --help or -h is among them. Throws UsageError. */
export function parseCommand<const S extends CommandSpec>(spec: S, argv: string[]): Parsed<S> | "help" {
    const names = Object.keys(spec.options);
    if (names.includes("help")) throw new Error("'help' is the layer's own option: a command cannot declare it");
    // Not strict: the tokens are judged here, in the wording of every other bad value.
    const { tokens } = parseArgs({
        args: argv,
        options: { ...Object.fromEntries(names.map((n) => [n, { type: spec.options[n].flag ? ("boolean" as const) : ("string" as const) }])), help: { type: "boolean", short: "h" } },
        strict: false,
        allowPositionals: true,
        tokens: true,
    });
    // Asked for anywhere before "--", even where an option would take it as its value (--stack --help).
    const options = argv.includes("--") ? argv.slice(0, argv.indexOf("--")) : argv;
    if (options.includes("--help") || options.includes("-h") || tokens.some((t) => t.kind === "option" && t.name === "help")) return "help";

    const values: Record<string, string | string[] | boolean | undefined> = {};
    for (const n of names) values[n] = spec.options[n].flag ? false : spec.options[n].multiple ? [] : undefined;
    const positionals: string[] = [];
    for (const t of tokens) {
        if (t.kind === "option-terminator") continue;
        if (t.kind === "positional") {
            if (!spec.positionals) throw new UsageError(`unexpected argument ${shown(t.value, "'")}: this command takes options only (--name value)`);
            const choices = spec.positionals.choices?.();
            if (choices && !choices.includes(t.value)) throw new UsageError(badChoice(spec.positionals.name, t.value, choices).message);
            positionals.push(t.value);
            continue;
        }
        const o = own(spec.options, t.name) ? spec.options[t.name] : undefined;
        if (!o) throw new UsageError(badChoice("unknown option", t.rawName, [...names.map((n) => `--${n}`), "--help"]).message);
        const opt = `--${t.name}`;
        if (o.flag) {
            if (t.inlineValue) throw new UsageError(`${opt} takes no value (given ${shown(t.value, "'")})`);
            values[t.name] = true;
            continue;
        }
        if (t.value === undefined) throw new UsageError(`${opt} needs a value (${placeholder(t.name, o)})`);
        // As Node's strict mode: `--stack --list` is a forgotten value, not a stack named "--list".
        if (!t.inlineValue && t.value.startsWith("-")) {
            throw new UsageError(`${opt} needs a value (${placeholder(t.name, o)}), not ${shown(t.value, "'")}; a value that starts with '-' is written ${opt}=${t.value}`);
        }
        if (!o.multiple && values[t.name] !== undefined) throw new UsageError(`${opt} is given more than once`);
        const choices = choicesOf(o.choices);
        if (choices && !choices.includes(t.value)) throw new UsageError(badChoice(opt, t.value, choices).message);
        const problem = o.check?.(t.value);
        if (problem !== undefined) throw new UsageError(`${opt}: ${problem}`);
        if (o.multiple) (values[t.name] as string[]).push(t.value);
        else values[t.name] = t.value;
    }
    const alone = names.some((n) => spec.options[n].alone && values[n] === true);
    for (const n of names) {
        const o = spec.options[n];
        const v = values[n];
        if (!alone && o.required && (v === undefined || (Array.isArray(v) && v.length === 0))) {
            const unless = names.filter((a) => spec.options[a].alone).map((a) => ` unless --${a}`).join("");
            throw new UsageError(`--${n} is required${unless}: ${o.help}${o.example ? `, e.g. --${n} ${o.example}` : ""}`);
        }
    }
    return { values: values as Values<S["options"]>, positionals };
}

function synopsis(spec: CommandSpec): string {
    const entries = Object.entries(spec.options);
    const one = ([n, o]: [string, OptionSpec]) => (o.flag ? `--${n}` : `--${n} ${placeholder(n, o)}`);
    const more = (o: OptionSpec) => (o.multiple ? "..." : "");
    const required = entries.filter(([, o]) => o.required).map((e) => one(e) + more(e[1]));
    const optional = entries.filter(([, o]) => !o.required).map((e) => `[${one(e)}]${more(e[1])}`);
    const positional = spec.positionals ? [`[${spec.positionals.name}...]`] : [];
    return [...required, ...optional, ...positional].join(" ");
}

function table(rows: [string, string][]): string {
    const width = Math.max(...rows.map(([left]) => left.length));
    return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`).join("\n");
}

function optionLine(n: string, o: OptionSpec, options: CommandSpec["options"]): [string, string] {
    let choices: readonly string[] | undefined;
    try {
        choices = choicesOf(o.choices);
    } catch {
        // A recipe file that does not read: the help is still printed, without the list.
    }
    const alones = o.required ? Object.entries(options).filter(([, x]) => x.alone).map(([a]) => `--${a}`) : [];
    const notes = [o.required ? `required${alones.length ? ` unless ${alones.join(" or ")}` : ""}` : "", o.multiple ? "repeatable" : "", choices ? `one of: ${choices.join(", ")}` : "", o.example ? `e.g. ${o.example}` : ""].filter(Boolean);
    return [o.flag ? `--${n}` : `--${n} ${placeholder(n, o)}`, o.help + (notes.length ? ` (${notes.join("; ")})` : "")];
}

/** The help of a command (of a subcommand when `command` is given). */
export function commandHelp(program: Program, spec: CommandSpec, command?: string): string {
    const rows: [string, string][] = Object.entries(spec.options).map(([n, o]) => optionLine(n, o, spec.options));
    if (spec.positionals) rows.push([spec.positionals.name, spec.positionals.help]);
    rows.push(["-h, --help", "print this help and exit"]);
    return [
        `usage: ${program.run} ${command ? command + " " : ""}${synopsis(spec)}`.trimEnd(),
        "",
        spec.summary,
        "",
        "options:",
        table(rows),
        "",
        "examples:",
        ...spec.examples.map((e) => `  ${e}`),
        "",
    ].join("\n");
}

/** The help of a command of subcommands: each command in one line. */
export function programHelp(program: SubcommandProgram, commands: Readonly<Record<string, CommandSpec>>): string {
    return [
        `usage: ${program.run} <command> [options]`,
        "",
        program.summary,
        "",
        "commands:",
        table(Object.entries(commands).map(([name, c]) => [name, c.summary])),
        "",
        `A command's options: ${program.run} <command> --help`,
        "",
        "examples:",
        ...program.examples.map((e) => `  ${e}`),
        "",
    ].join("\n");
}

/** Bad input: one line on stderr, exit 2. */
export function exitUsage(program: Program, message: string, hint = "--help"): never {
    process.stderr.write(`${program.name}: ${message}${hint ? ` (try ${hint})` : ""}\n`);
    process.exit(2);
}

/** Parses a command's argv; prints its help (exit 0) or its input error (exit 2) and exits. */
export function parseOrExit<const S extends CommandSpec>(program: Program, spec: S, argv: string[]): Parsed<S> {
    let parsed: Parsed<S> | "help";
    try {
        parsed = parseCommand(spec, argv);
    } catch (e) {
        if (e instanceof UsageError) exitUsage(program, e.message);
        throw e;
    }
    if (parsed === "help") {
        process.stdout.write(commandHelp(program, spec));
        process.exit(0);
    }
    return parsed;
}

export type ParsedSubcommand<C extends Readonly<Record<string, CommandSpec>>> = { [K in keyof C & string]: { readonly command: K } & Parsed<C[K]> }[keyof C & string];

/** `<command> [options]`: the command chosen, then its own options (with their own --help). */
export function parseSubcommandOrExit<const C extends Readonly<Record<string, CommandSpec>>>(program: SubcommandProgram, commands: C, argv: string[]): ParsedSubcommand<C> {
    const [command, ...rest] = argv;
    const names = Object.keys(commands);
    if (command === "--help" || command === "-h") {
        process.stdout.write(programHelp(program, commands));
        process.exit(0);
    }
    if (command === undefined || command.startsWith("-")) exitUsage(program, `a command is required; valid choices: ${names.join(", ")}`);
    if (!own(commands, command)) exitUsage(program, badChoice("unknown command", command, names).message);
    const spec = commands[command];
    let parsed: Parsed<CommandSpec> | "help";
    try {
        parsed = parseCommand(spec, rest);
    } catch (e) {
        if (e instanceof UsageError) exitUsage({ ...program, name: `${program.name} ${command}` }, e.message, `${program.name} ${command} --help`);
        throw e;
    }
    if (parsed === "help") {
        process.stdout.write(commandHelp(program, spec, command));
        process.exit(0);
    }
    return { command, ...parsed } as ParsedSubcommand<C>;
}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Runs a command's work and answers for it: what it returns on stdout (a string as is, anything
 * else as one JSON line), a UsageError or one of `inputErrors` on stderr with exit 2, any other
 * error on stderr with exit 1 (its message only: a stack trace is no answer for a user).
 */
export function runMain(program: Program, main: () => unknown, inputErrors: readonly ErrorClass[] = []): void {
    Promise.resolve()
        .then(main)
        .then((out) => {
            if (out === undefined) return;
            const text = typeof out === "string" ? out : JSON.stringify(out);
            process.stdout.write(text.endsWith("\n") ? text : text + "\n");
        })
        .catch((e: unknown) => {
            const message = e instanceof Error ? e.message : String(e);
            const input = e instanceof UsageError || inputErrors.some((c) => e instanceof c);
            process.stderr.write(`${program.name}: ${message}${e instanceof UsageError ? " (try --help)" : ""}\n`);
            process.exitCode = input ? 2 : 1;
        });
}
