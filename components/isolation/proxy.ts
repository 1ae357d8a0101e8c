// The build proxy: the only way out of a build's restricted network. An HTTP proxy (plain
// requests in absolute form, CONNECT for https) that goes only to the allow list's hosts and
// ports, and never to an address that list could not name (a mirror name resolving to the
// instance metadata service is refused, and the address it checked is the one it connects to).
import * as dns from "dns";
import * as http from "http";
import * as net from "net";
import { pipeline } from "stream/promises";
import { forbiddenAddress, isLoopback } from "./addresses";
import type { AllowedHost } from "./allow-list";

/** Marks the proxy's own refusals, so a guest tells them from a mirror's 403. */
export const REFUSED_HEADER = "x-gold-build-proxy";

export interface ProxyOptions {
    readonly allow: readonly AllowedHost[];
    /** One line per refusal, and the first use of each allowed host. */
    readonly log: (line: string) => void;
    /** Name resolution (tests give their own); its addresses are checked before any connection. */
    readonly lookup?: (host: string) => Promise<string[]>;
}

export interface BuildProxy {
    /** Its TCP port on 127.0.0.1 (what QEMU's guestfwd relays to). */
    readonly port: number;
    /** Connections refused so far. */
    readonly refused: () => number;
    close(): Promise<void>;
}

type Decision = { address: string } | { refuse: string };

const systemLookup = async (host: string): Promise<string[]> => (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);

function decider(opts: ProxyOptions) {
    const allowed = new Map(opts.allow.map((a) => [`${a.host}:${a.port}`, a]));
    const used = new Set<string>();
    const lookup = opts.lookup ?? systemLookup;
    let refused = 0;
    const refuse = (what: string, why: string): Decision => {
        refused++;
        opts.log(`build-proxy: refused ${what}: ${why}`);
        return { refuse: `gold build proxy: ${what} refused: ${why}` };
    };
    const decide = async (hostIn: string, port: number, what: string): Promise<Decision> => {
        const host = hostIn.replace(/^\[(.*)\]$/, "$1").toLowerCase();
        const key = `${host}:${port}`;
        if (!allowed.has(key)) {
            const list = [...allowed.keys()].join(", ") || "(empty)";
            return refuse(what, `${key} is not on the build's allow list (${list})`);
        }
        let addresses: string[];
        try {
            addresses = net.isIP(host) ? [host] : await lookup(host);
        } catch (e) {
            return refuse(what, `${host} does not resolve (${(e as Error).message})`);
        }
        const bad = addresses.map((a) => [a, forbiddenAddress(a)] as const).find(([, why]) => why);
        if (bad || addresses.length === 0) return refuse(what, bad ? `${host} resolves to ${bad[0]}, a ${bad[1]} address` : `${host} has no address`);
        // This machine's own services only when the config names this machine (127.0.0.1, ::1,
        // localhost): a public mirror's name that resolves here is a DNS answer, not a choice.
        const local = addresses.find(isLoopback);
        if (local && !net.isIP(host) && host !== "localhost") {
            return refuse(what, `${host} resolves to ${local}, this machine's loopback; a mirror on this machine is named by its address (127.0.0.1) or localhost`);
        }
        if (!used.has(key)) {
            used.add(key);
            opts.log(`build-proxy: allowed ${key} (${allowed.get(key)!.from}) at ${addresses[0]}`);
        }
        return { address: addresses[0] };
    };
    return { decide, refused: () => refused };
}

// Hop-by-hop headers and the proxy's own: not passed on.
const HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade"]);

function server(decide: ReturnType<typeof decider>["decide"]): http.Server {
    const s = http.createServer(async (req, res): Promise<void> => {
        const fail = (code: number, message: string, refused = false): void => {
            if (res.headersSent) {
                res.destroy();
                return;
            }
            res.writeHead(code, { "content-type": "text/plain", ...(refused ? { [REFUSED_HEADER]: "refused" } : {}) });
            res.end(message + "\n");
        };
        let url: URL;
        try {
            url = new URL(req.url ?? "");
        } catch {
            return fail(400, "gold build proxy: only absolute http:// requests and CONNECT are served");
        }
        if (url.protocol !== "http:") return fail(400, `gold build proxy: ${url.protocol} requests go through CONNECT`);
        const port = Number(url.port || 80);
        const d = await decide(url.hostname, port, `${req.method} ${url.host}`);
        if ("refuse" in d) return fail(403, d.refuse, true);
        // The Host the mirror sees is the one that was checked: a guest's own Host header would
        // reach any site behind the mirror's CDN (domain fronting).
        const headers = { ...Object.fromEntries(Object.entries(req.headers).filter(([k]) => !HOP.has(k))), host: url.host };
        const up = http.request({ host: d.address, port, method: req.method, path: url.pathname + url.search, headers, setHost: false }, (r) => {
            const back = Object.fromEntries(Object.entries(r.headers).filter(([k]) => !HOP.has(k)));
            res.writeHead(r.statusCode ?? 502, back);
            // A mirror that breaks off mid-answer breaks off the guest's too (never a short file that looks whole).
            pipeline(r, res).catch(() => res.destroy());
        });
        up.on("error", (e) => fail(502, `gold build proxy: ${url.host}: ${e.message}`));
        res.on("close", () => up.destroy());
        req.pipe(up);
    });
    s.on("connect", async (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
        client.on("error", () => undefined);
        const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(req.url ?? "");
        const d = m ? await decide(m[1], Number(m[2]), `CONNECT ${req.url}`) : { refuse: "gold build proxy: CONNECT needs host:port" };
        if ("refuse" in d) {
            const body = d.refuse + "\n";
            client.end(`HTTP/1.1 403 Forbidden\r\n${REFUSED_HEADER}: refused\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
            return;
        }
        // The client left while the name was looked up: nothing to open a tunnel for.
        if (client.destroyed) return;
        const up = net.connect(Number(m![2]), d.address, () => {
            client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
            if (head.length) up.write(head);
            up.pipe(client);
            client.pipe(up);
        });
        up.on("error", () => client.destroy());
        up.on("close", () => client.destroy());
        client.on("close", () => up.destroy());
    });
    return s;
}

const listen = (s: net.Server, ...at: [number, string] | [string]) =>
    new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(...(at as [number, string]), () => resolve());
    });

/** Starts the proxy on 127.0.0.1 (a free port), and on a Unix socket when one is named (a network namespace's way out). */
export async function startProxy(opts: ProxyOptions & { readonly socket?: string }): Promise<BuildProxy> {
    // Linux cuts a socket path at 107 bytes, silently: the socket would land elsewhere.
    if (opts.socket && Buffer.byteLength(opts.socket) > 107) throw new Error(`the proxy's socket path ${opts.socket} is longer than a Unix socket's 107 bytes`);
    const d = decider(opts);
    const servers = [server(d.decide), ...(opts.socket ? [server(d.decide)] : [])];
    try {
        await listen(servers[0], 0, "127.0.0.1");
        if (opts.socket) await listen(servers[1], opts.socket);
    } catch (e) {
        await Promise.all(servers.filter((s) => s.listening).map((s) => new Promise((r) => s.close(r))));
        throw e;
    }
    return {
        port: (servers[0].address() as net.AddressInfo).port,
        refused: d.refused,
        close: async () => {
            await Promise.all(
                servers.map(
                    (s) =>
                        new Promise<void>((r) => {
                            s.close(() => r());
                            s.closeAllConnections();
                        }),
                ),
            );
        },
    };
}
