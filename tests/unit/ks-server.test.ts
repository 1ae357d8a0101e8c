// The kickstart server over real HTTP: good kickstarts under both of the seed's URLs, and a table
// of hostile requests that must get 4xx without any file outside the definitions being read.
import { test, before, after } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
// The module object itself (not an import-star copy), so its functions can be wrapped.
import fsModule = require("fs");
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";
import { spawn } from "child_process";
import { missingBuildKeyWarning } from "../../components/kickstart/keys";
import { createKsServer } from "../../components/kickstart/server";
import { providerNames } from "../../components/providers";
import { listKickstartOses, listOses, loadOs } from "../../components/recipe/os";
import { recipePaths, repoRoot } from "../../components/recipe/paths";
import { fixtureRoot, TEST_KEY, testSite } from "../support/kickstart-fixtures";

const MARKER = "PLANTED-SECRET-MUST-NOT-BE-SERVED";
const root = fixtureRoot("ks-server");
const logLines: string[] = [];
let server: http.Server;
let port: number;
let os: string;

// Files a traversal would aim at, inside and next to the served tree.
for (const file of ["passwd.yaml", "passwd", "http/passwd.yaml", "http/builds/passwd.yaml", "templates/passwd.yaml", "http/builds/virtual/.hidden.yaml"]) {
    fs.writeFileSync(path.join(root, file), `comment: ${MARKER}\n`);
}
fs.symlinkSync(path.join(root, "passwd.yaml"), path.join(root, "http", "builds", "virtual", "evil.yaml"));
fs.symlinkSync(path.join(root, "passwd.yaml"), path.join(root, "templates", "os", "Evil-1.pkrvars.hcl"));

interface Reply {
    status: number;
    body: string;
    type?: string;
    headers: http.IncomingHttpHeaders;
}

/** The MACs of the example hosts (http/builds/metal/host1.yaml, host2.yaml), as anaconda sends them. */
const MACS: Record<string, http.OutgoingHttpHeaders> = {
    "metal/host1": { "X-RHN-Provisioning-MAC-0": "eth0 52:54:00:00:00:11" },
    "metal/host2": { "X-RHN-Provisioning-MAC-0": "eno1 52:54:00:00:00:00", "X-RHN-Provisioning-MAC-1": "eno2 52:54:00:00:00:12" },
};

/** Raw request: the path is sent byte for byte (fetch would normalise "..", which is the point). */
function request(rawPath: string, method = "GET", headers: http.OutgoingHttpHeaders = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port, method, path: rawPath, agent: false, headers }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (d) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body, type: res.headers["content-type"], headers: res.headers }));
        });
        req.on("error", reject);
        req.end();
    });
}

before(async () => {
    os = listOses(root).find((o) => o !== "Evil-1")!;
    server = createKsServer({ providers: providerNames(), root, site: testSite(root), sshPublicKey: TEST_KEY, log: (l) => logLines.push(l) });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test("GET /ks.cfg and /ks.php serve the same kickstart as text/plain", async () => {
    for (const build of ["virtual/aws", "virtual/docker", "metal/host1", "metal/host2"]) {
        const cfg = await request(`/ks.cfg?build=${build}&os=${os}`, "GET", MACS[build]);
        const php = await request(`/ks.php?build=${encodeURIComponent(build)}&os=${os}`, "GET", MACS[build]);
        assert.equal(cfg.status, 200, cfg.body);
        assert.match(cfg.type ?? "", /^text\/plain/);
        assert.equal(cfg.headers["x-content-type-options"], "nosniff");
        assert.match(cfg.body, new RegExp(`^# build: ${build} `, "m"));
        assert.equal(php.status, 200);
        assert.equal(php.body, cfg.body);
    }
    const virtualKs = await request(`/ks.cfg?build=virtual/aws&os=${os}`);
    assert.ok(virtualKs.body.split("\n").includes(TEST_KEY));
});

test("every OS is served, RHEL ones with the site's repo_server", async () => {
    for (const o of listKickstartOses(root).filter((x) => x !== "Evil-1")) {
        const r = await request(`/ks.cfg?build=virtual/openstack&os=${o}`);
        assert.equal(r.status, 200, `${o}: ${r.body}`);
        assert.ok(r.body.includes(`url --url=${loadOs(o, root).install_url.replace("{{ repo_server }}", "http://repo.example.test/mirror")}`));
    }
});

test("the seed's fallback: no build, or the type alone, is virtual with its defaults", async () => {
    for (const q of [`?os=${os}`, `?build=virtual&os=${os}`, `?build=virtual/defaults&os=${os}`]) {
        const r = await request(`/ks.cfg${q}`);
        assert.equal(r.status, 200, q);
        assert.match(r.body, /^# build: virtual /m);
    }
});

test("HEAD answers like GET without a body", async () => {
    const r = await request(`/ks.cfg?build=virtual/aws&os=${os}`, "HEAD");
    assert.equal(r.status, 200);
    assert.equal(r.body, "");
});

const long = "a".repeat(200);
const HOSTILE: [string, string, number][] = [
    // [method, raw path, status]
    ["GET", "/ks.cfg?build=../../../passwd&os=OS", 400],
    ["GET", "/ks.cfg?build=../passwd&os=OS", 400],
    ["GET", "/ks.cfg?build=virtual/../../passwd&os=OS", 400],
    ["GET", "/ks.cfg?build=virtual/..%2f..%2fpasswd&os=OS", 400],
    ["GET", "/ks.cfg?build=%2e%2e%2f%2e%2e%2fpasswd&os=OS", 400],
    ["GET", "/ks.cfg?build=virtual%2F%2e%2e&os=OS", 400],
    ["GET", "/ks.cfg?build=virtual/%2e%2e&os=OS", 400],
    ["GET", "/ks.cfg?build=virtual/.hidden&os=OS", 400],
    ["GET", "/ks.cfg?build=virtual/passwd.yaml&os=OS", 400],
    ["GET", "/ks.cfg?build=/etc/passwd&os=OS", 400],
    ["GET", "/ks.cfg?build=%2Fetc%2Fpasswd&os=OS", 400],
    ["GET", "/ks.cfg?build=virtual%5C..%5Cpasswd&os=OS", 400],
    ["GET", "/ks.cfg?build=virtual/aws%00&os=OS", 400],
    ["GET", "/ks.cfg?build=virtual/aws&os=OS%00", 400],
    ["GET", "/ks.cfg?build=virtual/aws%0a&os=OS", 400],
    ["GET", "/ks.cfg?build=%zz&os=OS", 400],
    ["GET", `/ks.cfg?build=virtual/${long}&os=OS`, 400],
    ["GET", `/ks.cfg?build=virtual/aws&os=${long}`, 400],
    ["GET", `/ks.cfg?build=virtual/aws&os=OS&pad=${"x".repeat(1100)}`, 414],
    ["GET", "/ks.cfg?build=virtual/aws&build=metal/host1&os=OS", 400],
    ["GET", "/ks.cfg?build=virtual/aws&os=OS&os=OS", 400],
    ["GET", "/ks.cfg?build=virtual/aws", 400],
    ["GET", "/ks.cfg?build=virtual/aws&os=", 400],
    ["GET", "/ks.cfg?build=passwd/x&os=OS", 404],
    ["GET", "/ks.cfg?build=virtual/evil&os=OS", 404],
    ["GET", "/ks.cfg?build=virtual/passwd&os=OS", 404],
    ["GET", "/ks.cfg?build=metal/host3&os=OS", 404],
    ["GET", "/ks.cfg?build=metal&os=OS", 404],
    ["GET", "/ks.cfg?build=metal/defaults&os=OS", 404],
    ["GET", "/ks.cfg?build=virtual/aws&os=Debian-12", 404],
    ["GET", "/ks.cfg?build=virtual/aws&os=Evil-1", 404],
    ["GET", "/ks.cfg?build=virtual/aws&os=..%2F..%2Fpasswd", 404],
    ["GET", "/ks.cfg?build=virtual/aws&os=%2Fetc%2Fpasswd", 404],
    ["GET", "/ks.cfg?build=virtual/aws&os=../templates/os/OS", 404],
    ["GET", "/../passwd.yaml", 404],
    ["GET", "/%2e%2e/passwd.yaml", 404],
    ["GET", "/ks.cfg/../passwd.yaml", 404],
    ["GET", "/ks.cfg%2f..%2fpasswd.yaml", 404],
    ["GET", "/builds/virtual/aws.yaml", 404],
    ["GET", "/http/builds/virtual/aws.yaml", 404],
    ["GET", "/passwd.yaml", 404],
    ["GET", "/", 404],
    ["GET", "/KS.CFG?os=OS", 404],
    ["GET", "//ks.cfg?os=OS", 404],
    ["POST", "/ks.cfg?build=virtual/aws&os=OS", 405],
    ["PUT", "/ks.cfg?build=virtual/aws&os=OS", 405],
    ["DELETE", "/ks.php?build=virtual/aws&os=OS", 405],
];

test("hostile requests get 4xx with a short message, never a planted file, and no file outside the tree is read", async () => {
    // Spy on every fs call that can read a file or a folder, after the modules are loaded.
    const touched: string[] = [];
    const names = ["readFileSync", "openSync", "readdirSync", "statSync", "lstatSync", "existsSync", "readFile", "open", "createReadStream"] as const;
    const saved = new Map<string, unknown>();
    const fsAny = fsModule as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const name of names) {
        const original = fsAny[name];
        saved.set(name, original);
        fsAny[name] = function (this: unknown, p: unknown, ...rest: unknown[]) {
            if (typeof p === "string" || Buffer.isBuffer(p) || p instanceof URL) touched.push(path.resolve(String(p instanceof URL ? p.pathname : p)));
            return original.call(this, p, ...rest);
        };
    }
    try {
        for (const [method, raw, status] of HOSTILE) {
            const r = await request(raw.replace(/\bOS\b/g, os), method);
            assert.equal(r.status, status, `${method} ${raw}: ${r.body}`);
            assert.ok(!r.body.includes(MARKER), `${method} ${raw} served a planted file`);
            assert.ok(r.body.length < 400, `${method} ${raw}: long answer`);
            assert.match(r.type ?? "", /^text\/plain/);
        }
    } finally {
        for (const [name, original] of saved) fsAny[name] = original as (...a: unknown[]) => unknown;
    }
    // The provider names are a value the server was given, so no provider folder is looked at;
    // the recipe's own files (templates, site and variable files, the build key) are stamped to
    // know when a render is stale: fixed paths, never one a request names.
    const paths = recipePaths(root);
    const allowed = [path.join(root, "http"), paths.osDir, paths.variables, paths.siteFile, path.join(root, "keys", "packer.pub")];
    const outside = touched.filter((p) => !allowed.some((dir) => p === dir || p.startsWith(dir + path.sep)));
    assert.deepEqual(outside, [], "files read outside http/, templates/os and the site files");
    assert.ok(!touched.some((p) => p.includes("passwd")), `a planted file was opened: ${touched.filter((p) => p.includes("passwd"))}`);
    assert.ok(touched.length > 0, "the spy saw nothing: it is not wired");
});

test("one log line per request, with method, path and status", async () => {
    const before = logLines.length;
    await request(`/ks.cfg?build=virtual/aws&os=${os}`);
    await request("/ks.cfg?build=virtual/aws%00&os=x");
    assert.equal(logLines.length, before + 2);
    assert.match(logLines[before], /GET \/ks\.cfg\?build=virtual\/aws&os=\S+ 200 \d+ms$/);
    assert.match(logLines[before + 1], / 400 \d+ms /);
    assert.ok(logLines.every((l) => !l.includes("\n")));
});

test("npm run ks-server listens on loopback and shuts down cleanly on SIGTERM", async () => {
    const child = spawn(process.execPath, ["--require", "ts-node/register", path.join(repoRoot, "scripts", "ks-server.ts"), "--port", "0"], {
        cwd: repoRoot,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    const listening = new Promise<string>((resolve, reject) => {
        child.stderr.on("data", (d) => {
            stderr += d;
            const m = /serving http:\/\/([0-9.]+):(\d+)\//.exec(stderr);
            if (m) resolve(m[1]);
        });
        child.on("exit", () => reject(new Error(`exited early: ${stderr}`)));
    });
    const address = await listening;
    assert.equal(address, "127.0.0.1");
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /SIGTERM, shutting down/);
});

test("a metal host's kickstart goes only to its own clients: by address or by the installer's MAC", async () => {
    const url = `/ks.cfg?build=metal/host1&os=${os}`;
    const denied = await request(url);
    assert.equal(denied.status, 403, denied.body);
    assert.match(denied.body, /metal\/host1 is served only to the clients its definition lists/);
    assert.ok(!denied.body.includes("$6$"), "no hash in a refusal");
    assert.equal((await request(url, "GET", { "X-RHN-Provisioning-MAC-0": "eth0 52:54:00:00:00:99" })).status, 403, "another MAC");
    assert.equal((await request(url, "GET", MACS["metal/host2"])).status, 403, "another host's MAC");
    assert.equal((await request(url, "GET", { "X-RHN-Provisioning-MAC-0": "eth0 52:54:00:00:00:11" })).status, 200);
    // By address: a host whose clients.ips holds this test's loopback address.
    const file = path.join(root, "http/builds/metal/host1.yaml");
    const original = fs.readFileSync(file, "utf8");
    try {
        fs.writeFileSync(file, original.replace("ips: [192.0.2.11]", "ips: [192.0.2.11, 127.0.0.1]"));
        assert.equal((await request(url)).status, 200);
    } finally {
        fs.writeFileSync(file, original);
    }
    assert.equal((await request(url)).status, 403, "the edit is undone: refused again");
    // Virtual builds hold no secret: anyone.
    assert.equal((await request(`/ks.cfg?build=virtual/aws&os=${os}`)).status, 200);
});

test("renders are kept until a file they come from changes", async () => {
    const url = `/ks.cfg?build=virtual/gcp&os=${os}`;
    const first = await request(url);
    const file = path.join(root, "http/builds/virtual/gcp.yaml");
    const original = fs.readFileSync(file, "utf8");
    // A render from the cache does not read the definition again.
    const reads: string[] = [];
    const saved = fsModule.readFileSync;
    (fsModule as any).readFileSync = function (p: unknown, ...rest: unknown[]) {
        reads.push(String(p));
        return (saved as any).call(this, p, ...rest);
    };
    let again: Reply;
    try {
        again = await request(url);
    } finally {
        (fsModule as any).readFileSync = saved;
    }
    assert.equal(again.body, first.body);
    assert.ok(!reads.some((r) => r.endsWith("gcp.yaml")), `the cached render read ${reads.join(", ")}`);
    try {
        fs.writeFileSync(file, original.replace(/^comment: .*$/m, 'comment: "gcp: edited by the cache test"'));
        const edited = await request(url);
        assert.match(edited.body, /^# gcp: edited by the cache test$/m);
    } finally {
        fs.writeFileSync(file, original);
    }
    assert.equal((await request(url)).body, first.body);
});

test("a broken definition is a 500 that names the file relative to the recipe, never the server's paths", async () => {
    const file = path.join(root, "http/builds/virtual/openstack.yaml");
    const original = fs.readFileSync(file, "utf8");
    try {
        fs.writeFileSync(file, original + "\nselinux: sometimes\n");
        const r = await request(`/ks.cfg?build=virtual/openstack&os=${os}`);
        assert.equal(r.status, 500);
        assert.match(r.body, /http\/builds\/virtual\/openstack\.yaml: selinux must be one of/);
        assert.ok(!r.body.includes(root), r.body);
    } finally {
        fs.writeFileSync(file, original);
    }
});

test("without the build key: one warning at start naming the file and npm run keys; metal builds are still served, virtual ones once the key exists", async () => {
    const bare = fixtureRoot("ks-server-nokey");
    const keyFile = path.join(bare, "keys", "packer.pub");
    assert.equal(missingBuildKeyWarning({ root: bare }), undefined, "the key is there: no warning");
    fs.rmSync(keyFile);
    const warning = missingBuildKeyWarning({ root: bare });
    assert.equal(warning, `warning: ${keyFile} does not exist: virtual builds answer 500 until it does (run npm run keys); metal builds are served`);
    assert.equal(missingBuildKeyWarning({ root: bare, sshPublicKey: TEST_KEY }), undefined, "a key given as text needs no file");
    const other = path.join(bare, "other.pub");
    assert.match(missingBuildKeyWarning({ root: bare, sshPublicKeyFile: other }) ?? "", new RegExp(`${other} does not exist`));

    // What the warning says is what the server does.
    const noKey = createKsServer({ providers: providerNames(), root: bare, site: testSite(bare), log: () => undefined });
    await new Promise<void>((resolve) => noKey.listen(0, "127.0.0.1", resolve));
    const get = (p: string, headers: http.OutgoingHttpHeaders = {}) =>
        new Promise<number>((resolve, reject) => {
            http.get({ host: "127.0.0.1", port: (noKey.address() as AddressInfo).port, path: p, agent: false, headers }, (res) => {
                res.resume();
                res.on("end", () => resolve(res.statusCode ?? 0));
            }).on("error", reject);
        });
    try {
        const o = listKickstartOses(bare)[0];
        assert.equal(await get(`/ks.cfg?build=virtual/aws&os=${o}`), 500);
        assert.equal(await get(`/ks.cfg?build=metal/host1&os=${o}`, MACS["metal/host1"]), 200);
        fs.writeFileSync(keyFile, TEST_KEY + "\n");
        assert.equal(await get(`/ks.cfg?build=virtual/aws&os=${o}`), 200, "npm run keys later is enough: no restart");
    } finally {
        await new Promise<void>((resolve) => noKey.close(() => resolve()));
    }
});
