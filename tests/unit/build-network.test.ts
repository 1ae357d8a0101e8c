// A build's network (components/isolation, ansible/roles/build_network): the allow list comes
// from the build's own Packer variables; the proxy serves only that list and never a link-local
// address; the role that every QEMU and chroot build runs first fails on an open network (its
// negative control here) and passes in a network namespace whose only way out is the proxy.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { spawnSync } from "node:child_process";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { test } from "node:test";
import { forbiddenAddress } from "../../components/isolation/addresses";
import { allowList, packerVariables } from "../../components/isolation/allow-list";
import { REFUSED_HEADER, startProxy } from "../../components/isolation/proxy";
import { osFile } from "../../components/recipe/os";
import { repoRoot } from "../../components/recipe/paths";
import { missingTool, run, tempDir } from "../support/tools";

const hosts = (argv: string[]) => allowList(packerVariables(argv)).map((a) => `${a.host}:${a.port}`);

test("allow list: the OS file's mirrors, the site mirror, a role's mirrors; a Debian repository's first word", () => {
    assert.deepEqual(hosts([`-var-file=${osFile("Debian-12")}`]), ["deb.debian.org:80"]);
    assert.deepEqual(hosts([`-var-file=${osFile("Rocky-9.8")}`]), ["download.rockylinux.org:443"]);
    // RedHat's repositories are the site's: {{ repo_server }} resolved, as Packer and Ansible do.
    assert.deepEqual(hosts([`-var-file=${osFile("RedHat-9.6")}`, "-var=repo_server=http://10.1.2.3:8080/repos"]), ["10.1.2.3:8080"]);
    assert.deepEqual(hosts([`-var-file=${osFile("Debian-12")}`, "-var", `build_mirrors=["https://packages.cloud.google.com/", "http://mirror.example.com/gce"]`]), [
        "deb.debian.org:80",
        "packages.cloud.google.com:443",
        "mirror.example.com:80",
    ]);
    // Later -var wins, as in Packer.
    assert.deepEqual(hosts([`-var-file=${osFile("Debian-12")}`, "-var=install_url=https://mirror.example.org/debian", "-var=extra_repos={}"]), ["mirror.example.org:443"]);
});

test("allow list: a mirror no build may use is an error naming the variable, the value and what is valid", () => {
    assert.throws(() => hosts(["-var=install_url=http://169.254.169.254/debian"]), /install_url = 'http:\/\/169\.254\.169\.254\/debian' names a link-local \(instance metadata\) address/);
    assert.throws(() => hosts(["-var=repo_server=http://[fe80::1]/repos"]), /repo_server = .* link-local/);
    assert.throws(() => hosts(["-var=repo_server=ftp://mirror.example.com/repos"]), /repo_server = 'ftp:\/\/mirror\.example\.com\/repos' is ftp.*valid: http:\/\/ or https:\/\//);
    assert.throws(() => hosts(['-var=extra_repos={"x": "not a url"}']), /extra_repos\.x = 'not' is not a URL/);
});

test("forbidden addresses: every form of the metadata service is refused; mirrors' addresses are not", () => {
    const refused: Record<string, RegExp> = {
        "169.254.169.254": /instance metadata/,
        "::ffff:169.254.169.254": /instance metadata/,
        // The same IPv4-mapped address written in hex: a DNS AAAA answer can take this form.
        "::ffff:a9fe:a9fe": /instance metadata/,
        "fd00:ec2::254": /AWS/,
        "100.100.100.200": /Alibaba/,
        "168.63.129.16": /WireServer/,
        "64:ff9b::a9fe:a9fe": /NAT64/,
        "fe80::1": /link-local/,
        "0.0.0.0": /unspecified/,
        "::": /unspecified/,
        "239.1.1.1": /multicast/,
        "ff02::1": /multicast/,
    };
    for (const [address, why] of Object.entries(refused)) assert.match(forbiddenAddress(address) ?? "(allowed)", why, address);
    // The controls: a site mirror on loopback or a private network, a public mirror, IPv6 ones.
    for (const address of ["127.0.0.1", "10.1.2.3", "151.101.2.132", "100.64.0.1", "::1", "2a04:4e42::644", "fd00:ec2::253", "::ffff:10.1.2.3"]) {
        assert.equal(forbiddenAddress(address), undefined, address);
    }
});

/**
 * An HTTP server on loopback that answers every request with its path and the Host it was
 * sent (at /broken: 1000 bytes of a promised 100000, then a reset); and a TCP echo.
 */
async function upstream(): Promise<{ http: http.Server; echo: net.Server; httpPort: number; echoPort: number }> {
    const h = http.createServer((req, res) => {
        if (req.url !== "/broken") {
            res.end(`mirror ${req.method} ${req.url} for ${req.headers.host}`);
            return;
        }
        res.writeHead(200, { "content-length": "100000" });
        res.write(Buffer.alloc(1000), () => res.socket?.destroy());
    });
    const e = net.createServer((c) => c.pipe(c));
    await new Promise<void>((r) => h.listen(0, "127.0.0.1", r));
    await new Promise<void>((r) => e.listen(0, "127.0.0.1", r));
    return { http: h, echo: e, httpPort: (h.address() as net.AddressInfo).port, echoPort: (e.address() as net.AddressInfo).port };
}

/** A request through the proxy (`host`: the Host header the guest sends, by default the URL's); `whole`: the answer arrived complete. */
function viaProxy(proxyPort: number, url: string, host = new URL(url).host): Promise<{ status: number; refused: boolean; body: string; whole?: false }> {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port: proxyPort, path: url, headers: { host } }, (res) => {
            let body = "";
            res.on("data", (d) => (body += d));
            res.on("error", () => undefined);
            res.on("close", () => resolve({ status: res.statusCode ?? 0, refused: res.headers[REFUSED_HEADER] === "refused", body, ...(res.complete ? {} : { whole: false as const }) }));
        });
        req.on("error", reject);
        req.end();
    });
}

function connectVia(proxyPort: number, target: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const s = net.connect(proxyPort, "127.0.0.1", () => s.write(`CONNECT ${target} HTTP/1.1\r\nhost: ${target}\r\n\r\n`));
        let got = "";
        s.on("data", (d) => {
            got += d;
            if (got.startsWith("HTTP/1.1 200") && got.includes("\r\n\r\n") && !got.includes("ping")) s.write("ping");
            if (got.includes("ping") || got.startsWith("HTTP/1.1 403")) s.end();
        });
        s.on("close", () => resolve(got));
        s.on("error", reject);
    });
}

test("proxy: serves the allow list only; a name that resolves to a metadata or loopback address is refused; the mirror sees the checked Host", async () => {
    const up = await upstream();
    const lines: string[] = [];
    // localhost, mirror.test and metadata.test are all allowed by name: only what they resolve to differs.
    const names: Record<string, string[]> = { localhost: ["127.0.0.1"], "mirror.test": ["127.0.0.1"], "metadata.test": ["169.254.169.254"] };
    const proxy = await startProxy({
        allow: [
            { host: "127.0.0.1", port: up.httpPort, from: "install_url" },
            { host: "localhost", port: up.httpPort, from: "repo_server" },
            { host: "mirror.test", port: up.httpPort, from: "extra_repos.x" },
            { host: "metadata.test", port: up.httpPort, from: "extra_repos.y" },
            { host: "127.0.0.1", port: up.echoPort, from: "build_mirrors[0]" },
        ],
        log: (l) => lines.push(l),
        lookup: async (h) => names[h] ?? Promise.reject(new Error("unknown")),
    });
    try {
        const ok = await viaProxy(proxy.port, `http://127.0.0.1:${up.httpPort}/dists/Release?x=1`);
        assert.deepEqual(ok, { status: 200, refused: false, body: `mirror GET /dists/Release?x=1 for 127.0.0.1:${up.httpPort}` });
        // The control of the checks by address: a name resolved the same way that names this machine.
        assert.equal((await viaProxy(proxy.port, `http://localhost:${up.httpPort}/a`)).body, `mirror GET /a for localhost:${up.httpPort}`);
        // A guest's Host header is not passed on: the mirror sees the host the proxy checked.
        assert.equal((await viaProxy(proxy.port, `http://localhost:${up.httpPort}/a`, "metadata.google.internal")).body, `mirror GET /a for localhost:${up.httpPort}`);
        // A mirror that breaks off mid-answer: the guest's answer breaks off too, never looks whole.
        const broken = await viaProxy(proxy.port, `http://localhost:${up.httpPort}/broken`);
        assert.equal(broken.whole, false);
        assert.equal(broken.body.length, 1000);
        const home = await viaProxy(proxy.port, `http://mirror.test:${up.httpPort}/a`);
        assert.equal(home.status, 403);
        assert.match(home.body, /mirror\.test resolves to 127\.0\.0\.1, this machine's loopback/);
        const meta = await viaProxy(proxy.port, `http://metadata.test:${up.httpPort}/latest/meta-data/`);
        assert.equal(meta.status, 403);
        assert.ok(meta.refused);
        assert.match(meta.body, /metadata\.test resolves to 169\.254\.169\.254, a link-local \(instance metadata\) address/);
        const off = await viaProxy(proxy.port, `http://169.254.169.254/latest/meta-data/`);
        assert.equal(off.status, 403);
        assert.match(off.body, /169\.254\.169\.254:80 is not on the build's allow list/);
        // Another port of an allowed host is another host.
        assert.equal((await viaProxy(proxy.port, `http://127.0.0.1:${up.echoPort + 1}/`)).status, 403);
        assert.match(await connectVia(proxy.port, `127.0.0.1:${up.echoPort}`), /^HTTP\/1\.1 200[^]*ping$/);
        assert.match(await connectVia(proxy.port, `example.com:443`), /^HTTP\/1\.1 403[^]*example\.com:443 is not on the build's allow list/);
        assert.equal(proxy.refused(), 5);
        assert.equal(lines.filter((l) => l.startsWith("build-proxy: refused")).length, 5);
    } finally {
        await proxy.close();
        up.http.close();
        up.echo.close();
    }
});

test("proxy: a socket path Linux would cut short is an error, and nothing is left listening", async () => {
    const long = path.join(tempDir("proxy-socket"), "x".repeat(120), "proxy.sock");
    await assert.rejects(startProxy({ allow: [], log: () => undefined, socket: long }), /socket path .* is longer than a Unix socket's 107 bytes/);
    // A socket that cannot listen (its directory is missing): the proxy exits with the error,
    // never left serving TCP alone while its build waits for a port file that never comes.
    const missing = path.join(tempDir("proxy-socket"), "no-such-dir");
    const r = spawnSync(path.join(repoRoot, "node_modules/.bin/ts-node"), ["--transpile-only", path.join(repoRoot, "scripts/build-proxy.ts"), "serve", "--ready", missing], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.signal, null, "the proxy was still running after 60 s");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /build-proxy: listen E(ACCES|NOENT)/);
});

/** Runs role build_network against this machine (connection local) with the proxy of `allow`. */
async function probe(mirror: string, proxyUrl: string, wrap: string[] = [], env: Record<string, string> = {}, extra: Record<string, unknown> = {}): Promise<{ status: number; out: string }> {
    const dir = tempDir("build-network");
    const play = path.join(dir, "play.yml");
    fs.writeFileSync(play, "- hosts: all\n  gather_facts: false\n  roles: [build_network]\n");
    const vars = JSON.stringify({ gold_os: { install_url: mirror }, gold_build_proxy: proxyUrl, build_network_timeout: 2, ansible_python_interpreter: "/usr/bin/python3", ...extra });
    const r = await run(wrap[0] ?? "ansible-playbook", [...wrap.slice(1), ...(wrap.length ? ["ansible-playbook"] : []), "-i", "localhost,", "-c", "local", "-e", vars, play], {
        env: { ...process.env, ANSIBLE_ROLES_PATH: path.join(repoRoot, "ansible", "roles"), ANSIBLE_NOCOLOR: "1", ...env },
    });
    fs.rmSync(dir, { recursive: true, force: true });
    return { status: r.code ?? -1, out: r.stdout + r.stderr };
}

const noAnsible = missingTool("ansible-playbook");
const notRoot = process.getuid?.() === 0 ? undefined : "network namespaces need root (unshare --net)";

test("role build_network: fails on an open network (negative control), passes where only the proxy leads out", { skip: noAnsible ?? notRoot ?? (missingTool("unshare") || missingTool("ip")) }, async () => {
    const up = await upstream();
    const mirror = `http://127.0.0.1:${up.httpPort}/debian/`;
    const dir = tempDir("build-proxy-sock");
    const socket = path.join(dir, "proxy.sock");
    const proxy = await startProxy({ allow: [{ host: "127.0.0.1", port: up.httpPort, from: "install_url" }], log: () => undefined, socket });
    try {
        // This machine's own network: the mirror answers without the proxy, so the role fails.
        const open = await probe(mirror, `http://127.0.0.1:${proxy.port}`);
        assert.notEqual(open.status, 0, open.out);
        assert.match(open.out, /The build's network is not restricted:.*without the proxy: http:\/\/127\.0\.0\.1:\d+\/debian\/ answered 200/s);

        // A namespace with loopback only, the proxy's socket relayed to its 127.0.0.1:3128, and a
        // process namespace of its own: how scripts/chroot-variant.sh runs a chroot build's play.
        const script = path.join(repoRoot, "scripts/isolated-build.sh");
        const own = { build_network_own_namespace: true };
        const closed = await probe(mirror, "http://127.0.0.1:3128", [script, "--netns"], { GOLD_BUILD_PROXY_SOCKET: socket }, own);
        assert.equal(closed.status, 0, closed.out);
        assert.match(closed.out, /build network: restricted .*no process in sight in another network namespace/s);

        // The control of the process check: the same network namespace without a process
        // namespace of its own (every host process in sight, each a way back to the host's network).
        const netOnly = await probe(mirror, "http://127.0.0.1:3128", ["unshare", "--net", "--", script, "--in-netns", ""], { GOLD_BUILD_PROXY_SOCKET: socket }, own);
        assert.notEqual(netOnly.status, 0, netOnly.out);
        assert.match(netOnly.out, /no answer, -1, expected\); processes in sight in another network namespace\s+\(a way out\): \d+ \(\/proc\/\d+/);
    } finally {
        await proxy.close();
        up.http.close();
        up.echo.close();
        fs.rmSync(dir, { recursive: true, force: true });
    }
});
