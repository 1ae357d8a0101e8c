// A build's network (components/isolation, ansible/roles/build_network): the allow list comes
// from the build's own Packer variables; the proxy serves only that list and never a link-local
// address; the role that every QEMU and chroot build runs first fails on an open network (its
// negative control here) and passes in a network namespace whose only way out is the proxy.
import assert from "node:assert/strict";
import * as fs from "node:fs";
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

/** An HTTP server on loopback that answers every request with its path; and a TCP echo. */
async function upstream(): Promise<{ http: http.Server; echo: net.Server; httpPort: number; echoPort: number }> {
    const h = http.createServer((req, res) => res.end(`mirror ${req.method} ${req.url}`));
    const e = net.createServer((c) => c.pipe(c));
    await new Promise<void>((r) => h.listen(0, "127.0.0.1", r));
    await new Promise<void>((r) => e.listen(0, "127.0.0.1", r));
    return { http: h, echo: e, httpPort: (h.address() as net.AddressInfo).port, echoPort: (e.address() as net.AddressInfo).port };
}

function viaProxy(proxyPort: number, url: string): Promise<{ status: number; refused: boolean; body: string }> {
    return new Promise((resolve, reject) => {
        const u = new URL(url);
        const req = http.request({ host: "127.0.0.1", port: proxyPort, path: url, headers: { host: u.host } }, (res) => {
            let body = "";
            res.on("data", (d) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, refused: res.headers[REFUSED_HEADER] === "refused", body }));
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

test("proxy: serves the allow list only; a name that resolves to a link-local address is refused", async () => {
    const up = await upstream();
    const lines: string[] = [];
    // mirror.test and metadata.test are both allowed by name: only what they resolve to differs.
    const names: Record<string, string[]> = { "mirror.test": ["127.0.0.1"], "metadata.test": ["169.254.169.254"] };
    const proxy = await startProxy({
        allow: [
            { host: "127.0.0.1", port: up.httpPort, from: "install_url" },
            { host: "mirror.test", port: up.httpPort, from: "extra_repos.x" },
            { host: "metadata.test", port: up.httpPort, from: "extra_repos.y" },
            { host: "127.0.0.1", port: up.echoPort, from: "build_mirrors[0]" },
        ],
        log: (l) => lines.push(l),
        lookup: async (h) => names[h] ?? Promise.reject(new Error("unknown")),
    });
    try {
        const ok = await viaProxy(proxy.port, `http://127.0.0.1:${up.httpPort}/dists/Release?x=1`);
        assert.deepEqual(ok, { status: 200, refused: false, body: "mirror GET /dists/Release?x=1" });
        // The control of the link-local check: the same rule passes a name resolving to loopback.
        assert.equal((await viaProxy(proxy.port, `http://mirror.test:${up.httpPort}/a`)).body, "mirror GET /a");
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
        assert.equal(proxy.refused(), 4);
        assert.equal(lines.filter((l) => l.startsWith("build-proxy: refused")).length, 4);
    } finally {
        await proxy.close();
        up.http.close();
        up.echo.close();
    }
});

/** Runs role build_network against this machine (connection local) with the proxy of `allow`. */
async function probe(mirror: string, proxyUrl: string, wrap: string[] = [], env: Record<string, string> = {}): Promise<{ status: number; out: string }> {
    const dir = tempDir("build-network");
    const play = path.join(dir, "play.yml");
    fs.writeFileSync(play, "- hosts: all\n  gather_facts: false\n  roles: [build_network]\n");
    const vars = JSON.stringify({ gold_os: { install_url: mirror }, gold_build_proxy: proxyUrl, build_network_timeout: 2, ansible_python_interpreter: "/usr/bin/python3" });
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

        // A namespace with loopback only, the proxy's socket relayed to its 127.0.0.1:3128: how
        // scripts/chroot-variant.sh runs a chroot build's play.
        const netns = [path.join(repoRoot, "scripts/isolated-build.sh"), "--netns"];
        const closed = await probe(mirror, "http://127.0.0.1:3128", netns, { GOLD_BUILD_PROXY_SOCKET: socket });
        assert.equal(closed.status, 0, closed.out);
        assert.match(closed.out, /build network: restricted/);
    } finally {
        await proxy.close();
        up.http.close();
        up.echo.close();
        fs.rmSync(dir, { recursive: true, force: true });
    }
});
