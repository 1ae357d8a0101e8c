import { badChoice } from "../recipe/choices";

/**
 * An unknown name (type, build, host, OS) asked for by a caller: the server answers 404 for
 * these and 500 for everything else (a broken definition file is our fault, not the caller's).
 */
export class UnknownChoiceError extends Error {
    constructor(what: string, value: unknown, choices: readonly string[], reason?: string) {
        super(badChoice(what, value, choices, reason).message);
        this.name = "UnknownChoiceError";
    }
}

/** A malformed request value (not a name at all): the server answers 400. */
export class BadNameError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "BadNameError";
    }
}
