/** Quotes one word for /bin/sh: everything literal, nothing expanded. */
export function q(word: string): string {
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A command line from words, each quoted. */
export function sh(words: string[]): string {
    return words.map(q).join(" ");
}
