/** One wording for every "bad value" error: the key, the value, and the valid choices. */
export function badChoice(what: string, value: unknown, choices: readonly string[]): Error {
    const shown = typeof value === "string" ? `'${value}'` : JSON.stringify(value);
    return new Error(`${what}: ${shown} is not valid; valid choices: ${choices.join(", ")}`);
}
