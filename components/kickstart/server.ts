// The seed's kickstart server (http/ks.php) without PHP: GET /ks.cfg or /ks.php
// ?build=<type>/<name>&os=<os>. Only names found in http/builds and templates/os are served;
// a request value is never used to build a path. A metal host's kickstart (root password
// hash, keys) goes only to the clients its definition lists. Renders are kept until a file
// they come from changes.
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { recipePaths, repoRoot } from "../recipe/paths";
import { Recipe } from "../recipe/recipe";
import { SiteVars } from "../recipe/site";
import { BadNameError, UnknownChoiceError } from "./errors";
import { BUILD_TYPES, NAME_RE, printable, resolveBuild } from "./definitions";
import { defaultBuildKeyFile } from "./keys";

export interface KsServerOptions {
    /** Every provider's name (the providers registry's providerNames()): each is a virtual build. */
    readonly providers: readonly string[];
    readonly root?: string;
    /** Site variables; loaded from the root (and reloaded when its files change) when absent. */
    readonly site?: SiteVars;
    readonly sshPublicKey?: string;
    readonly sshPublicKeyFile?: string;
    /** One line per request; stderr by default. */
    readonly log?: (line: string) => void;
}

/** Who asks: the peer's address and the installer's headers. */
export interface Client {
    readonly address?: string;
    readonly headers: http.IncomingHttpHeaders;
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

/** The installer's MACs: anaconda sends X-RHN-Provisioning-MAC-<n>: "<device> <mac>" with inst.ks.sendmac. */
function clientMacs(headers: http.IncomingHttpHeaders): string[] {
    return Object.entries(headers)
        .filter(([k]) => /^x-rhn-provisioning-mac-\d+$/.test(k))
        .flatMap(([, v]) => (Array.isArray(v) ? v : [v ?? ""]))
        .map((v) => v.trim().split(/\s+/).pop()!.toLowerCase());
}

/** "::ffff:192.0.2.11" is 192.0.2.11. */
function plainAddress(address: string | undefined): string | undefined {
    return address?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");
}

/**
 * The files a render comes from, and their state: a changed stamp means a new Recipe (fresh
 * definitions, OS files, site variables, templates, key). Only the recipe's own regular files
 * that a render can read: build definitions, templates, OS files, the site files, the key.
 */
function stamp(root: string, keyFile: string | undefined): string {
    const paths = recipePaths(root);
    const files: string[] = [paths.variables, paths.siteFile, path.join(paths.http, "builds", "defaults.yaml"), ...(keyFile ? [keyFile] : [])];
    const regular = (dir: string, ext: string, name: RegExp, recurse = false): void => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, e.name);
            if (recurse && e.isDirectory()) regular(p, ext, name, true);
            else if (e.isFile() && e.name.endsWith(ext) && name.test(e.name.slice(0, -ext.length))) files.push(p);
        }
    };
    for (const type of BUILD_TYPES) regular(path.join(paths.http, "builds", type), ".yaml", NAME_RE);
    regular(path.join(paths.http, "templates"), ".njk", NAME_RE, true);
    regular(paths.osDir, ".pkrvars.hcl", /^[A-Za-z0-9][A-Za-z0-9._-]*$/);
    return files
        .map((f) => {
            const st = fs.statSync(f, { throwIfNoEntry: false });
            return st ? `${f} ${st.ino} ${st.size} ${st.mtimeMs}` : `${f} -`;
        })
        .join("\n");
}

/** Renders kickstarts through one Recipe, replaced whenever a file it reads has changed. */
export class KickstartRenderer {
    private recipe?: Recipe;
    private stamped?: string;
    readonly root: string;

    constructor(private readonly opts: KsServerOptions) {
        this.root = opts.root ?? repoRoot;
    }

    /** The current Recipe: the same as long as no recipe file changed. */
    current(): Recipe {
        const keyFile = this.opts.sshPublicKey === undefined ? (this.opts.sshPublicKeyFile ?? defaultBuildKeyFile(this.root)) : undefined;
        const now = stamp(this.root, keyFile);
        if (!this.recipe || now !== this.stamped) {
            this.recipe = new Recipe({ providers: this.opts.providers, root: this.root, site: this.opts.site });
            this.stamped = now;
        }
        return this.recipe;
    }

    /** The kickstart of a build for an OS, for this client (a metal host only for its own). */
    render(build: string, os: string, client: Client): string {
        const recipe = this.current();
        const id = resolveBuild(build, this.opts.providers, this.root);
        if (id.type === "metal") {
            const { clients } = recipe.definition(id);
            const address = plainAddress(client.address);
            const allowed = (address !== undefined && clients.ips.includes(address)) || clientMacs(client.headers).some((m) => clients.macs.map((x) => x.toLowerCase()).includes(m));
            if (!allowed) {
                throw new HttpError(403, `forbidden: ${id.id} is served only to the clients its definition lists (clients.ips, clients.macs; the installer sends its MAC with inst.ks.sendmac)`);
            }
        }
        return recipe.kickstart(build, os, this.opts);
    }
}

export function answer(method: string | undefined, rawUrl: string | undefined, renderer: KickstartRenderer, client: Client = { headers: {} }): Answer {
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
        return { status: 200, body: renderer.render(build, os, client) };
    } catch (e) {
        if (e instanceof HttpError) return { status: e.status, body: e.message + "\n" };
        if (e instanceof BadNameError) return { status: 400, body: e.message + "\n" };
        if (e instanceof UnknownChoiceError) return { status: 404, body: e.message + "\n" };
        // A broken definition, OS file or missing key: the operator's to fix. The full message is
        // in the log; the answer names files relative to the recipe, never the server's paths.
        const message = (e as Error).message.split(renderer.root + path.sep).join("").split(renderer.root).join(".");
        return { status: 500, body: `kickstart could not be rendered: ${message}\n` };
    }
}

export function createKsServer(opts: KsServerOptions): http.Server {
    const log = opts.log ?? ((line: string) => process.stderr.write(line + "\n"));
    const renderer = new KickstartRenderer(opts);
    return http.createServer((req, res) => {
        const started = Date.now();
        const a = answer(req.method, req.url, renderer, { address: req.socket.remoteAddress, headers: req.headers });
        res.writeHead(a.status, {
            "Content-Type": "text/plain; charset=utf-8",
            "X-Content-Type-Options": "nosniff",
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
