// Checked fields on zod, with one message shape for every bad value: the key, the value as
// given (cut when long), and what is valid (a rule, or the valid choices). Used for the stack
// config, the site variables and each provider's settings.
import { z } from "zod";
import { badChoice, badValue } from "./choices";

const CHOICES = "valid choices: ";

/** A string matching `re`; `rule` says what is valid, e.g. "an AWS region such as eu-west-1". */
export const text = (re: RegExp, rule: string, max = 256) =>
    z
        .string({ error: rule })
        .max(max, { error: `${rule}, at most ${max} characters` })
        .regex(re, { error: rule });

/** A list of such strings, each at most once. */
export const list = (re: RegExp, rule: string, max = 256) =>
    z
        .array(text(re, rule, max), { error: rule })
        .refine((l) => new Set(l).size === l.length, { error: `${rule}, each at most once` });

/** One of `values`; `why` explains a choice that looks missing (e.g. "UEFI: not built yet"). */
export const choice = <const T extends readonly [string, ...string[]]>(values: T, why?: string) =>
    z.enum(values, { error: CHOICES + values.join(", ") + (why ? ` (${why})` : "") });

export const flag = () => z.boolean({ error: "true or false" });

/** A whole number in [min, max]. */
export const whole = (min: number, max: number, rule = `a whole number from ${min} to ${max}`) =>
    z.number({ error: rule }).int({ error: rule }).min(min, { error: rule }).max(max, { error: rule });

/** An object of exactly these fields: an unknown one is refused with the known ones listed. */
export const object = <S extends z.core.$ZodLooseShape>(shape: S, rule = "an object") =>
    z.strictObject(shape, { error: (iss) => (iss.code === "unrecognized_keys" ? CHOICES + Object.keys(shape).join(", ") : rule) });

type Key = PropertyKey;

function valueAt(root: unknown, path: readonly Key[]): unknown {
    return path.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<Key, unknown>)[k] : undefined), root);
}

/**
 * Parses `value`; the first problem becomes one Error: "<where><path>: <value> is not valid;
 * it must be <rule>" (or "; valid choices: …", or "unknown key"), where `where` is a prefix
 * such as "config " or "config site.". A list is named as a whole, with its value (its rule
 * says what each item must be), but an item that is not one of the choices is shown itself.
 */
export function checked<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
    const r = schema.safeParse(value, { reportInput: true });
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    const path = [...issue.path];
    while (typeof path[path.length - 1] === "number") path.pop();
    const name = (where + path.map(String).join(".")).replace(/[ .:]+$/, "");
    const choices = issue.message.startsWith(CHOICES) ? [issue.message.slice(CHOICES.length)] : undefined;
    if (issue.code === "unrecognized_keys") throw badChoice(`${name}: unknown key`, issue.keys[0], choices ?? []);
    if (choices) throw badChoice(name, issue.input, choices);
    throw badValue(name, path.length === issue.path.length ? issue.input : valueAt(value, path), issue.message);
}
