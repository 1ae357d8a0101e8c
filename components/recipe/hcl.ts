// A reader for the literal subset of HCL2 that our Packer variable files use, so that
// TypeScript (kickstart rendering, fingerprints, config checks) reads the same files Packer
// reads instead of a second copy of the data. Anything that is not a literal (a function call,
// a reference, an interpolation) is refused with its file and line, never guessed.

export type HclValue = string | number | boolean | null | HclValue[] | { [key: string]: HclValue } | HclExpression;

/** An expression (reference, function call, operator) kept as text: only literals are read. */
export class HclExpression {
    constructor(readonly text: string) {}
}

export interface HclBlock {
    readonly type: string;
    readonly labels: string[];
    readonly body: HclBody;
}

export interface HclBody {
    readonly attributes: Record<string, HclValue>;
    readonly blocks: HclBlock[];
}

type Token =
    | { kind: "ident"; text: string; line: number }
    | { kind: "string"; text: string; line: number }
    | { kind: "number"; text: string; line: number }
    | { kind: "punct"; text: string; line: number }
    | { kind: "newline"; text: string; line: number };

function tokenize(src: string, file: string): Token[] {
    const tokens: Token[] = [];
    let i = 0;
    let line = 1;
    const fail = (msg: string): never => {
        throw new Error(`${file}:${line}: ${msg}`);
    };
    while (i < src.length) {
        const c = src[i];
        if (c === "\n") {
            tokens.push({ kind: "newline", text: "\n", line });
            line++;
            i++;
        } else if (c === " " || c === "\t" || c === "\r") {
            i++;
        } else if (c === "#" || (c === "/" && src[i + 1] === "/")) {
            while (i < src.length && src[i] !== "\n") i++;
        } else if (c === "/" && src[i + 1] === "*") {
            const end = src.indexOf("*/", i + 2);
            if (end < 0) fail("unterminated comment");
            for (let j = i; j < end; j++) if (src[j] === "\n") line++;
            i = end + 2;
        } else if (c === '"') {
            let text = "";
            i++;
            while (i < src.length && src[i] !== '"') {
                if (src[i] === "\n") fail("newline in string");
                if (src[i] === "\\") {
                    const e = src[i + 1];
                    const map: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\" };
                    if (e in map) {
                        text += map[e];
                        i += 2;
                        continue;
                    }
                    if (e === "u") {
                        text += String.fromCharCode(parseInt(src.slice(i + 2, i + 6), 16));
                        i += 6;
                        continue;
                    }
                    fail(`unsupported escape \\${e}`);
                }
                if ((src[i] === "$" || src[i] === "%") && src[i + 1] === "{") {
                    // "$${" and "%%{" are HCL's escapes for a literal "${" / "%{".
                    fail("interpolation is not a literal value (use $${ for a literal ${)");
                }
                if ((src[i] === "$" && src[i + 1] === "$" && src[i + 2] === "{") || (src[i] === "%" && src[i + 1] === "%" && src[i + 2] === "{")) {
                    text += src[i] + "{";
                    i += 3;
                    continue;
                }
                text += src[i];
                i++;
            }
            if (i >= src.length) fail("unterminated string");
            i++;
            tokens.push({ kind: "string", text, line });
        } else if (c === "<" && src[i + 1] === "<") {
            fail("heredoc strings are not supported here; use a list of strings");
        } else if (/[0-9-]/.test(c)) {
            const m = /^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(src.slice(i));
            if (!m) fail(`unexpected '${c}'`);
            tokens.push({ kind: "number", text: m![0], line });
            i += m![0].length;
        } else if (/[A-Za-z_]/.test(c)) {
            const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(src.slice(i))!;
            tokens.push({ kind: "ident", text: m[0], line });
            i += m[0].length;
        } else if ("{}[]=,:().!<>&|+*/?%".includes(c)) {
            tokens.push({ kind: "punct", text: c, line });
            i++;
        } else {
            fail(`unexpected '${c}'`);
        }
    }
    return tokens;
}

class Parser {
    private pos = 0;
    constructor(
        private readonly tokens: Token[],
        private readonly file: string,
    ) {}

    private peek(skipNewlines = true): Token | undefined {
        if (skipNewlines) while (this.tokens[this.pos]?.kind === "newline") this.pos++;
        return this.tokens[this.pos];
    }

    private fail(msg: string, tok?: Token): never {
        const line = tok?.line ?? this.tokens[this.tokens.length - 1]?.line ?? 1;
        throw new Error(`${this.file}:${line}: ${msg}`);
    }

    private expect(text: string): void {
        const t = this.peek();
        if (!t || t.kind !== "punct" || t.text !== text) this.fail(`expected '${text}'`, t);
        this.pos++;
    }

    body(until?: string): HclBody {
        const attributes: Record<string, HclValue> = {};
        const blocks: HclBlock[] = [];
        for (;;) {
            const t = this.peek();
            if (!t) {
                if (until) this.fail(`expected '${until}'`);
                break;
            }
            if (until && t.kind === "punct" && t.text === until) {
                this.pos++;
                break;
            }
            if (t.kind !== "ident") this.fail(`expected a name, found '${t.text}'`, t);
            this.pos++;
            const next = this.peek();
            if (next?.kind === "punct" && next.text === "=") {
                this.pos++;
                if (t.text in attributes) this.fail(`'${t.text}' is set twice`, t);
                attributes[t.text] = this.value();
                continue;
            }
            const labels: string[] = [];
            while (this.peek()?.kind === "string") labels.push(this.tokens[this.pos++].text);
            this.expect("{");
            blocks.push({ type: t.text, labels, body: this.body("}") });
        }
        return { attributes, blocks };
    }

    value(): HclValue {
        const start = this.pos;
        const v = this.literal();
        // Anything after a literal on the same line (an operator, a call) makes it an expression.
        const next = this.peek(false);
        if (v instanceof HclExpression || (next && next.kind !== "newline" && !",]}".includes(next.text) && !(next.kind === "punct" && next.text === ")"))) {
            return this.skipExpression(start);
        }
        return v;
    }

    private skipExpression(start: number): HclExpression {
        this.pos = start;
        let depth = 0;
        const parts: string[] = [];
        for (;;) {
            const t = this.tokens[this.pos];
            if (!t) break;
            if (depth === 0 && (t.kind === "newline" || t.text === "," || t.text === "}" || t.text === "]")) break;
            if ("([{".includes(t.text) && t.kind === "punct") depth++;
            if (")]}".includes(t.text) && t.kind === "punct") depth--;
            parts.push(t.kind === "string" ? JSON.stringify(t.text) : t.text);
            this.pos++;
        }
        return new HclExpression(parts.join(" "));
    }

    private literal(): HclValue {
        const t = this.peek();
        if (!t) this.fail("expected a value");
        this.pos++;
        if (t.kind === "string") return t.text;
        if (t.kind === "number") return Number(t.text);
        if (t.kind === "ident") {
            if (t.text === "true") return true;
            if (t.text === "false") return false;
            if (t.text === "null") return null;
            return new HclExpression(t.text);
        }
        if (t.text === "[") {
            const items: HclValue[] = [];
            for (;;) {
                const n = this.peek();
                if (n?.kind === "punct" && n.text === "]") {
                    this.pos++;
                    return items;
                }
                items.push(this.value());
                const sep = this.peek();
                if (sep?.kind === "punct" && sep.text === ",") this.pos++;
                else if (!(sep?.kind === "punct" && sep.text === "]")) this.fail("expected ',' or ']'", sep);
            }
        }
        if (t.text === "{") {
            const obj: Record<string, HclValue> = {};
            for (;;) {
                const k = this.peek();
                if (k?.kind === "punct" && k.text === "}") {
                    this.pos++;
                    return obj;
                }
                if (!k || (k.kind !== "ident" && k.kind !== "string")) this.fail("expected a key", k);
                this.pos++;
                const eq = this.peek();
                if (!eq || eq.kind !== "punct" || (eq.text !== "=" && eq.text !== ":")) this.fail("expected '='", eq);
                this.pos++;
                obj[k.text] = this.value();
                const sep = this.peek(false);
                if (sep?.kind === "punct" && sep.text === ",") this.pos++;
            }
        }
        return this.fail(`unexpected '${t.text}'`, t);
    }
}

/** Parses HCL2 source made of attributes and blocks with literal values. */
export function parseHcl(src: string, file = "<hcl>"): HclBody {
    return new Parser(tokenize(src, file), file).body();
}

/** Parses a `*.pkrvars.hcl` file: attributes only. */
export function parseVarFile(src: string, file = "<pkrvars>"): Record<string, HclValue> {
    const body = parseHcl(src, file);
    if (body.blocks.length > 0) throw new Error(`${file}: a variables file holds only 'name = value' lines`);
    const check = (v: HclValue, key: string): void => {
        if (v instanceof HclExpression) throw new Error(`${file}: ${key} = ${v.text} is not a literal value`);
        if (Array.isArray(v)) v.forEach((x, i) => check(x, `${key}[${i}]`));
        else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) check(x, `${key}.${k}`);
    };
    for (const [k, v] of Object.entries(body.attributes)) check(v, k);
    return body.attributes;
}
