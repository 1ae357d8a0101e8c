import { parseArgs } from "util";

export interface SubcommandSpec {
    readonly required: readonly string[];
    readonly optional: readonly string[];
}

/**
 * Parses `<command> --name value ...` for the small CLIs the publish stages run: every option
 * a string, unknown commands and options refused with the valid ones listed. `fail` makes the
 * CLI's own input error (which its caller maps to exit 2).
 */
export function parseSubcommand<C extends string>(
    argv: string[],
    commands: Record<C, SubcommandSpec>,
    usage: string,
    fail: (message: string) => Error,
): { command: C; values: Record<string, string>; given: Record<string, string | undefined> } {
    const [command, ...rest] = argv;
    const valid = Object.keys(commands) as C[];
    if (!valid.includes(command as C)) throw fail(`command ${JSON.stringify(command ?? "")} is not one of: ${valid.join(", ")}\n${usage}`);
    const spec = commands[command as C];
    const names = [...spec.required, ...spec.optional];
    let given: Record<string, string | undefined>;
    try {
        given = parseArgs({
            args: rest,
            options: Object.fromEntries(names.map((n) => [n, { type: "string" as const }])),
            strict: true,
            allowPositionals: false,
        }).values as Record<string, string | undefined>;
    } catch (e) {
        throw fail(`${(e as Error).message} (valid options for ${command}: ${names.map((n) => "--" + n).join(" ")})`);
    }
    const missing = spec.required.filter((n) => given[n] === undefined);
    if (missing.length) throw fail(`${command}: missing ${missing.map((n) => "--" + n).join(", ")}\n${usage}`);
    return { command: command as C, values: given as Record<string, string>, given };
}
