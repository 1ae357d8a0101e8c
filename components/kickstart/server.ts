// The seed's kickstart server (http/ks.php) without PHP: GET /ks.cfg or /ks.php
// ?build=<type>/<name>&os=<os>. Only names found in http/builds and templates/os are served;
// a request value is never used to build a path.
import * as http from "http";
import { repoRoot } from "../recipe/paths";
import { SiteVars } from "../recipe/site";
import { BadNameError, UnknownChoiceError } from "./errors";
import { printable } from "./definitions";
import { renderKickstart } from "./render";

export interface KsServerOptions {
    readonly root?: string;
    /** Site variables; loaded from the root on every request when absent (edits apply at once). */
    readonly site?: SiteVars;
    readonly sshPublicKey?: string;
    readonly sshPublicKeyFile?: string;
    /** One line per request; stderr by default. */
    readonly log?: (line: string) => void;
}

const PATHS = ["/ks.cfg", "/ks.php"];
const MAX_URL = 1024;
const MAX_VALUE = 128;
/** The seed: "If buildtype is not defined, virtual is used" (and its defaults). */
const DEFAULT_BUILD = "virtual";

interface Answer {
    readonly status: number;
    readonly body: string;
}

class HttpError extends Error {
    constructor(
        readonly status: number,
        message: string,
    ) {
        super(message);
    }
}

/** One query value, checked: present at most once, short, no control characters. */
function param(query: URLSearchParams, name: string): string | undefined {
    const all = query.getAll(name);
    if (all.length > 1) throw new HttpError(400, `parameter '${name}' is given ${all.length} times`);
    const v = all[0];
    if (v === undefined) return undefined;
    if (v.length > MAX_VALUE) throw new HttpError(400, `parameter '${name}' is longer than ${MAX_VALUE} characters`);
    if (/[\u0000-\u001f\u007f]/.test(v)) throw new HttpError(400, `parameter '${name}' has control characters`);
    return v;
}

export function answer(method: string | undefined, rawUrl: string | undefined, opts: KsServerOptions): Answer {
    const url = rawUrl ?? "";
    if (url.length > MAX_URL) return { status: 414, body: "request URL too long\n" };
    const q = url.indexOf("?");
    // The raw path, compared as is: no decoding or normalisation, so /%2e%2e/ks.cfg is just "not found".
    const pathname = q < 0 ? url : url.slice(0, q);
    if (!PATHS.includes(pathname)) return { status: 404, body: "not found: only /ks.cfg and /ks.php are served\n" };
    if (method !== "GET" && method !== "HEAD") return { status: 405, body: "method not allowed: use GET\n" };
    try {
        let query: URLSearchParams;
        try {
            // decodeURIComponent first: a malformed %-sequence is a 400, not a silent U+FFFD.
            decodeURIComponent(q < 0 ? "" : url.slice(q + 1).replace(/\+/g, " "));
            query = new URLSearchParams(q < 0 ? "" : url.slice(q + 1));
        } catch {
            throw new HttpError(400, "malformed query string");
        }
        const build = param(query, "build") ?? DEFAULT_BUILD;
        const os = param(query, "os");
        if (os === undefined || os === "") throw new HttpError(400, "parameter 'os' is required, e.g. ?build=virtual/aws&os=CentOS-7.2.1511");
        const body = renderKickstart({ build, os, root: opts.root ?? repoRoot, site: opts.site, sshPublicKey: opts.sshPublicKey, sshPublicKeyFile: opts.sshPublicKeyFile });
        return { status: 200, body };
    } catch (e) {
        if (e instanceof HttpError) return { status: e.status, body: e.message + "\n" };
        if (e instanceof BadNameError) return { status: 400, body: e.message + "\n" };
        if (e instanceof UnknownChoiceError) return { status: 404, body: e.message + "\n" };
        // A broken definition, OS file or missing key: the operator's to fix; said in the log.
        return { status: 500, body: `kickstart could not be rendered: ${(e as Error).message}\n` };
    }
}

export function createKsServer(opts: KsServerOptions = {}): http.Server {
    const log = opts.log ?? ((line: string) => process.stderr.write(line + "\n"));
    return http.createServer((req, res) => {
        const started = Date.now();
        const a = answer(req.method, req.url, opts);
        res.writeHead(a.status, {
            "Content-Type": "text/plain; charset=utf-8",
            "Content-Length": Buffer.byteLength(a.body),
            "Cache-Control": "no-store",
            ...(a.status === 405 ? { Allow: "GET, HEAD" } : {}),
        });
        res.end(req.method === "HEAD" ? undefined : a.body);
        const first = a.status === 200 ? "" : " " + a.body.split("\n")[0];
        log(`${new Date(started).toISOString()} ${req.socket.remoteAddress} ${printable(req.method ?? "")} ${printable(req.url ?? "")} ${a.status} ${Date.now() - started}ms${printable(first)}`);
    });
}

/** Listens, and closes cleanly on SIGINT/SIGTERM (open keep-alive connections are ended). */
export function serveUntilSignal(server: http.Server, port: number, address: string): Promise<void> {
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, address, () => {
            const stop = (signal: string) => {
                process.stderr.write(`ks-server: ${signal}, shutting down\n`);
                server.close(() => resolve());
                server.closeAllConnections();
            };
            // Before the "serving" line: whoever waits for it may signal at once.
            process.once("SIGINT", () => stop("SIGINT"));
            process.once("SIGTERM", () => stop("SIGTERM"));
            const a = server.address();
            const shown = a && typeof a === "object" ? `${a.address}:${a.port}` : String(a);
            process.stderr.write(`ks-server: serving http://${shown}/ks.cfg?build=<type>/<name>&os=<os>\n`);
        });
    });
}
