// One wording for every bad value, whoever checks it (stack config, OS files, kickstart
// definitions, command-line tools): the key, the value as given, and what is valid.

const MAX_SHOWN = 120;

/**
 * A value as messages show it: JSON (control characters escaped), strings in single quotes
 * when `quote` is "'", and anything longer than MAX_SHOWN characters cut, with its length.
 */
export function shown(value: unknown, quote: '"' | "'" = '"'): string {
    let text = JSON.stringify(value) ?? String(value);
    if (typeof value === "string" && quote === "'") text = `'${text.slice(1, -1).replace(/\\"/g, '"')}'`;
    if (text.length <= MAX_SHOWN) return text;
    const length = typeof value === "string" ? value.length : text.length;
    return `${text.slice(0, MAX_SHOWN - 20)}… (${length} characters)`;
}

/** "<what>: '<value>' is not valid; valid choices: a, b, c" (`reason` in place of "is not valid"). */
export function badChoice(what: string, value: unknown, choices: readonly string[], reason = "is not valid"): Error {
    return new Error(`${what}: ${shown(value, "'")} ${reason}; valid choices: ${choices.join(", ")}`);
}

/** "<what>: <value> is not valid; it must be <rule>". */
export function badValue(what: string, value: unknown, rule: string): Error {
    return new Error(`${what}: ${shown(value)} is not valid; it must be ${rule}`);
}
