// The clouds a first-boot test plays, each over real HTTP on loopback (as the guest reaches
// them through QEMU's forwards): EC2's IMDSv2 token flow, GCE's Metadata-Flavor rule and its
// agent's long poll, Azure's IMDS and wire server; the provisioning media as real ISO images;
// QEMU's restricted network with its forwards. And what a first boot tells its user as it goes.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { after, test } from "node:test";
import { Guest, runCheckList } from "../../components/firstboot/mechanism";
import { TESTED_ARCHIVE, TESTED_TAG, runContainer } from "../../components/firstboot/container";
import { makeIso } from "../../components/firstboot/media";
import { disabledUnits, keyBodies, nopasswdLines, passwordUsers } from "../../components/firstboot/offline";
import { control, firstBoot, servePlayed } from "../../components/firstboot/run";
import { sshSteady } from "../../components/firstboot/ssh";
import { bootAndProbe, infrastructureFailure, netdevArg } from "../../components/firstboot/vm";
import { imds } from "../../components/providers/aws/first-boot";
import { HealthReport, instanceMetadata, wireServer } from "../../components/providers/azure/first-boot";
import { firstBoot as vmware } from "../../components/providers/vmware/first-boot";
import { metadataServer } from "../../components/providers/gcp/first-boot";
import { firstBoot as openstack, metadataService } from "../../components/providers/openstack/first-boot";
import { firstBoot as docker } from "../../components/providers/docker/first-boot";
import { missingTool, tempDir } from "../support/tools";

const work = tempDir("first-boot");
after(() => fs.rmSync(work, { recursive: true, force: true }));

const guest = (over: Partial<Guest> = {}): Guest => ({
    publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPNvVUvvJNhapv5J5TmcItuJluYxaANVsEM5hMfew8gE gold-first-boot-test",
    hostname: "gold-fb-abc123.example.internal",
    instanceId: "i-0123456789abcdef",
    uuid: "5e2a3b4c-1d2e-4f5a-8b6c-7d8e9f0a1b2c",
    work,
    defaultUser: "debian",
    imdsV2Only: true,
    mac: "0e:12:34:56:78:9a",
    ...over,
});

async function serve(handler: http.RequestListener) {
    const server = http.createServer(handler);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const call = (method: string, url: string, headers: Record<string, string> = {}, body = "") =>
        new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders; ms: number }>((resolve, reject) => {
            const started = Date.now();
            const req = http.request({ host: "127.0.0.1", port, method, path: url, headers, agent: false }, (res) => {
                let text = "";
                res.on("data", (d) => (text += d));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers, ms: Date.now() - started }));
            });
            req.on("error", reject);
            req.end(body);
        });
    return { call, close: () => new Promise((r) => (server.closeAllConnections(), server.close(r))) };
}

test("EC2: IMDSv2 token first, then the instance's key, id and hostname; v1 refused on an IMDSv2-only AMI", async () => {
    const s = await serve(imds(guest()));
    try {
        assert.equal((await s.call("GET", "/latest/meta-data/instance-id")).status, 401, "no token: refused (v2 only)");
        assert.equal((await s.call("PUT", "/latest/api/token")).status, 400, "a token needs its TTL header");
        const token = await s.call("PUT", "/latest/api/token", { "X-aws-ec2-metadata-token-ttl-seconds": "21600" });
        assert.equal(token.status, 200);
        const get = (p: string) => s.call("GET", p, { "X-aws-ec2-metadata-token": token.body });
        assert.equal((await get("/2021-03-23/meta-data/instance-id")).body, "i-0123456789abcdef");
        assert.match((await get("/2021-03-23/meta-data/")).body, /^public-keys\/$/m);
        assert.equal((await get("/2021-03-23/meta-data/public-keys/")).body, "0=gold-first-boot");
        assert.equal((await get("/2021-03-23/meta-data/public-keys/0/openssh-key")).body, guest().publicKey);
        assert.equal((await get("/2021-03-23/meta-data/local-hostname")).body, guest().hostname);
        assert.equal((await get("/2021-03-23/user-data")).status, 404, "no user data");
        assert.equal(JSON.parse((await get("/2021-03-23/dynamic/instance-identity/document")).body).instanceId, "i-0123456789abcdef");
        assert.equal((await s.call("GET", "/latest/meta-data/instance-id", { "X-aws-ec2-metadata-token": "forged" })).status, 401);
        // The interface tree cloud-init builds the network from: the NIC's own MAC, the primary.
        assert.match((await get("/2021-03-23/meta-data/")).body, /^network\/$/m);
        assert.equal((await get("/2021-03-23/meta-data/network/interfaces/macs/")).body, "0e:12:34:56:78:9a/");
        assert.equal((await get("/2021-03-23/meta-data/network/interfaces/macs/0e:12:34:56:78:9a/device-number")).body, "0");
        assert.equal((await get("/2021-03-23/meta-data/network/interfaces/macs/0e:12:34:56:78:9a/mac")).body, "0e:12:34:56:78:9a");
        assert.equal((await get("/2021-03-23/meta-data/mac")).body, "0e:12:34:56:78:9a");
        // A TTL EC2 refuses gets no token: 0, above 6 hours, not a number.
        for (const ttl of ["0", "21601", "abc", "-5"]) assert.equal((await s.call("PUT", "/latest/api/token", { "X-aws-ec2-metadata-token-ttl-seconds": ttl })).status, 400, `TTL ${ttl}`);
    } finally {
        await s.close();
    }
    // A token lives its TTL, no longer.
    let clock = 1_000_000;
    const timed = await serve(imds(guest(), () => clock));
    try {
        const t = (await timed.call("PUT", "/latest/api/token", { "X-aws-ec2-metadata-token-ttl-seconds": "1" })).body;
        assert.equal((await timed.call("GET", "/latest/meta-data/instance-id", { "X-aws-ec2-metadata-token": t })).status, 200);
        clock += 1001;
        assert.equal((await timed.call("GET", "/latest/meta-data/instance-id", { "X-aws-ec2-metadata-token": t })).status, 401, "an expired token is refused");
    } finally {
        await timed.close();
    }
    const v1 = await serve(imds(guest({ imdsV2Only: false })));
    try {
        assert.equal((await v1.call("GET", "/2009-04-04/meta-data/instance-id")).body, "i-0123456789abcdef", "v1 allowed where the AMI allows it");
    } finally {
        await v1.close();
    }
});

test("GCE: only with Metadata-Flavor: Google; the paths cloud-init reads; the agent's recursive poll waits for a change", async () => {
    const s = await serve(metadataServer(guest()));
    try {
        assert.equal((await s.call("GET", "/computeMetadata/v1/instance/id")).status, 403);
        const g = (p: string) => s.call("GET", p, { "Metadata-Flavor": "Google" });
        assert.equal((await g("/computeMetadata/v1/instance/hostname")).body, guest().hostname);
        assert.match((await g("/computeMetadata/v1/instance/zone")).body, /zones\/us-central1-a$/);
        const attrs = JSON.parse((await g("/computeMetadata/v1/instance/attributes/?recursive=True")).body);
        assert.match(attrs["ssh-keys"], /^gold:ssh-ed25519 AAAA\S+ gold$/);
        assert.deepEqual(JSON.parse((await g("/computeMetadata/v1/project/attributes/?recursive=True")).body), {});
        const all = await g("/computeMetadata/v1/?recursive=true&alt=json&last_etag=NONE");
        assert.equal(JSON.parse(all.body).instance.attributes["ssh-keys"], attrs["ssh-keys"]);
        const etag = String(all.headers.etag);
        const waited = await g(`/computeMetadata/v1/?recursive=true&alt=json&wait_for_change=true&timeout_sec=1&last_etag=${etag}`);
        assert.ok(waited.ms >= 900, `an unchanged instance's poll waits (${waited.ms} ms)`);
        assert.equal(waited.body, all.body);
    } finally {
        await s.close();
    }
});

test("Azure: IMDS (Metadata: true) holds the key; the wire server gives a goal state and takes the ready report", async () => {
    const m = await serve(instanceMetadata(guest()));
    try {
        assert.equal((await m.call("GET", "/metadata/instance?api-version=2021-08-01&extended=true")).status, 400);
        const body = JSON.parse((await m.call("GET", "/metadata/instance?api-version=2021-08-01&extended=true", { Metadata: "true" })).body);
        assert.equal(body.compute.publicKeys[0].keyData, guest().publicKey);
        assert.equal(body.compute.osProfile.adminUsername, "azureuser");
    } finally {
        await m.close();
    }
    const reports: HealthReport[] = [];
    const w = await serve(wireServer(guest(), reports));
    try {
        assert.match((await w.call("GET", "/machine/?comp=goalstate")).body, /<Incarnation>1<\/Incarnation>[\s\S]*<InstanceId>i-0123456789abcdef<\/InstanceId>/);
        assert.match((await w.call("GET", "/?comp=versions")).body, /<Preferred><Version>2012-11-30/);
        // The goal state's documents WALinuxAgent fetches, at the URLs it names (XML-escaped there).
        const goal = (await w.call("GET", "/machine/?comp=goalstate")).body;
        for (const [element, root] of [["HostingEnvironmentConfig", /<HostingEnvironmentConfig [^>]*goalStateIncarnation="1"[\s\S]*<Role [^>]*name="gold-/], ["SharedConfig", /<SharedConfig [\s\S]*<Instances><Instance id="gold-/]] as const) {
            const url = new RegExp(`<${element}>http://168\\.63\\.129\\.16:80(/machine/[^<]+)</${element}>`).exec(goal)![1].replace(/&amp;/g, "&");
            const doc = await w.call("GET", url);
            assert.equal(doc.status, 200, element);
            assert.match(doc.body, root, element);
        }
        assert.doesNotMatch(goal, /<Certificates>/, "no certificates: a key-only VM");
        assert.equal((await w.call("GET", `/machine/${guest().uuid}/other?comp=config&type=sharedConfig&incarnation=1`)).status, 404, "another instance's config: not found");
        // cloud-init's report (azure.py's HealthReport), parsed for the Ready check.
        const health = (container: string, state: string) =>
            `<?xml version="1.0" encoding="utf-8"?>\n<Health xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><GoalStateIncarnation>1</GoalStateIncarnation><Container><ContainerId>${container}</ContainerId><RoleInstanceList><Role><InstanceId>i-0123456789abcdef</InstanceId><Health><State>${state}</State></Health></Role></RoleInstanceList></Container></Health>`;
        assert.equal((await w.call("POST", "/machine?comp=health", { "Content-Type": "text/xml" }, health(guest().uuid, "NotReady"))).status, 200);
        assert.equal((await w.call("POST", "/machine?comp=health", { "Content-Type": "text/xml" }, health(guest().uuid, "Ready"))).status, 200);
        assert.deepEqual(reports, [
            { incarnation: "1", containerId: guest().uuid, instanceId: "i-0123456789abcdef", state: "NotReady" },
            { incarnation: "1", containerId: guest().uuid, instanceId: "i-0123456789abcdef", state: "Ready" },
        ]);
    } finally {
        await w.close();
    }
});

test("OpenStack: Nova's metadata service: the versions, the instance's documents, its EC2-compatible tree; GET only, no user data", async () => {
    const g = guest();
    const s = await serve(metadataService(g));
    try {
        const versions = (await s.call("GET", "/openstack")).body.split("\n");
        assert.ok(versions.includes("latest") && versions.includes("2018-08-27"), versions.join(" "));
        const md = JSON.parse((await s.call("GET", "/openstack/latest/meta_data.json")).body);
        assert.equal(md.uuid, g.uuid);
        assert.deepEqual(md.public_keys, { "gold-first-boot": g.publicKey });
        assert.equal(JSON.parse((await s.call("GET", "/openstack/2018-08-27/meta_data.json")).body).uuid, g.uuid, "a dated version too");
        const net = JSON.parse((await s.call("GET", "/openstack/latest/network_data.json")).body);
        assert.equal(net.links[0].ethernet_mac_address, g.mac, "the NIC named by its MAC");
        assert.equal(net.networks[0].link, net.links[0].id);
        assert.equal((await s.call("GET", "/openstack/latest/user_data")).status, 404, "no user data, as Nova without one");
        assert.equal((await s.call("GET", "/openstack/1999-01-01/meta_data.json")).status, 404, "a version Nova does not list");
        assert.equal((await s.call("GET", "/latest/meta-data/public-keys/0/openssh-key")).body, g.publicKey);
        assert.equal((await s.call("GET", "/2009-04-04/meta-data/instance-id")).body, g.instanceId);
        assert.equal((await s.call("POST", "/openstack/latest/meta_data.json")).status, 405);
    } finally {
        await s.close();
    }
});

test("OpenStack: each way played on its own (a config drive, or Nova's identity and the metadata service), each way's check the other's control", async () => {
    const drive = await openstack.play(guest(), "config-drive");
    const service = await openstack.play(guest(), "metadata-service");
    assert.equal(drive.cdroms?.length, 1);
    assert.equal(drive.services, undefined, "no metadata service beside the config drive");
    assert.equal(service.cdroms, undefined, "no config drive");
    assert.deepEqual(service.services?.map((x) => `${x.ip}:${x.port}`), ["169.254.169.254:80"]);
    for (const p of [drive, service]) assert.match(p.smbios?.[0] ?? "", /product=OpenStack Nova/, "Nova's identity either way");
    assert.deepEqual(drive.checks, service.controls, "the config drive's check must fail in the metadata service's boot");
    assert.deepEqual(service.checks, drive.controls, "and the other way round");
    assert.deepEqual(openstack.ways, ["config-drive", "metadata-service"]);
});

test("a played metadata service that breaks is a fault of this machine, told once, and the guest gets a 500", async () => {
    const { forwards, close, takeFault } = await servePlayed({ user: "debian", login: "x", setsHostname: false, services: [{ ip: "169.254.169.254", port: 80, handler: () => { throw new Error("played cloud bug"); } }] });
    try {
        const status = await new Promise<number>((resolve, reject) => http.get({ host: "127.0.0.1", port: forwards[0].to, path: "/openstack", agent: false }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on("error", reject));
        assert.equal(status, 500);
        assert.match(takeFault() ?? "", /^the played metadata service 169\.254\.169\.254:80 failed \(GET \/openstack: played cloud bug\)$/);
        assert.equal(takeFault(), undefined, "told once");
    } finally {
        await close();
    }
    // The control: a service that answers is no fault.
    const good = await servePlayed({ user: "debian", login: "x", setsHostname: false, services: [{ ip: "169.254.169.254", port: 80, handler: metadataService(guest()) }] });
    try {
        await new Promise<number>((resolve, reject) => http.get({ host: "127.0.0.1", port: good.forwards[0].to, path: "/openstack", agent: false }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on("error", reject));
        assert.equal(good.takeFault(), undefined);
    } finally {
        await good.close();
    }
});

test("a control passes only where its check fails, per family", async () => {
    const local = async (command: string) => {
        const r = spawnSync("sh", ["-c", command], { encoding: "utf8" });
        return { code: r.status, out: r.stdout + r.stderr };
    };
    const results = await runCheckList([control({ name: "holds", run: "echo yes; true" }), control({ name: "fails", run: "exit 3" }), control({ name: "per family", run: { Debian: "true", RedHat: "false" } })], "Debian", local);
    assert.deepEqual(results.map((r) => [r.name, r.ok]), [['control: "holds" fails here', false], ['control: "fails" fails here', true], ['control: "per family" fails here', false]]);
    assert.match(results[0].detail ?? "", /passed, but must fail here/);
});

const noIso = missingTool("genisoimage") ?? missingTool("isoinfo");

test("provisioning media are ISO images with the label each cloud's datasource looks for", { skip: noIso }, async () => {
    const cases: [string, { cdroms?: readonly string[] }, string, string, RegExp][] = [
        ["openstack", await openstack.play(guest()) as never, "config-2", "/openstack/latest/meta_data.json", /"public_keys":\{"gold-first-boot":"ssh-ed25519 /],
        ["openstack", await openstack.play(guest(), "config-drive") as never, "config-2", "/openstack/latest/network_data.json", /"ethernet_mac_address":"0e:12:34:56:78:9a"/],
        ["vmware", await vmware.play(guest()) as never, "OVF ENV", "/ovf-env.xml", /<Property oe:key="public-keys" oe:value="ssh-ed25519 /],
    ];
    for (const [name, played, label, file, content] of cases) {
        const iso = played.cdroms![0];
        const info = spawnSync("isoinfo", ["-d", "-i", iso], { encoding: "utf8" });
        assert.match(info.stdout, new RegExp(`^Volume id: ${label}$`, "m"), name);
        const text = spawnSync("isoinfo", ["-R", "-x", file, "-i", iso], { encoding: "utf8" }).stdout;
        assert.match(text, content, name);
    }
    const xmlKey = await makeIso(path.join(work, "x.iso"), "X", { "a/b.txt": "<&>" });
    assert.equal(spawnSync("isoinfo", ["-R", "-x", "/a/b.txt", "-i", xmlKey], { encoding: "utf8" }).stdout, "<&>");
});

test("QEMU's network for a first boot: restricted, SSH from loopback only, each metadata address forwarded to loopback", () => {
    const arg = netdevArg(2222, [{ ip: "169.254.169.254", port: 80, to: 41000 }], "gold-fb-1");
    assert.ok(arg.startsWith("user,id=n0,net=168.0.0.0/7,restrict=on,hostname=gold-fb-1,hostfwd=tcp:127.0.0.1:2222-:22,"), arg);
    assert.ok(arg.endsWith("guestfwd=tcp:169.254.169.254:80-cmd:bash -c 'exec 3<>/dev/tcp/127.0.0.1/41000; cat <&3 & exec cat >&3'"), arg);
    assert.ok(!/,[^=]*,/.test(arg.split("cmd:")[1]), "no comma inside a forward's command (QEMU would split there)");
});

test("a played metadata service tells when the guest first asks it, once", async () => {
    const lines: string[] = [];
    const { forwards, close } = await servePlayed({ user: "debian", login: "EC2", setsHostname: true, services: [{ ip: "169.254.169.254", port: 80, handler: imds(guest()) }] }, (l) => lines.push(l));
    try {
        const ask = (method: string, url: string) =>
            new Promise<number>((resolve, reject) =>
                http.request({ host: "127.0.0.1", port: forwards[0].to, method, path: url, headers: { "X-aws-ec2-metadata-token-ttl-seconds": "60" }, agent: false }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on("error", reject).end(),
            );
        assert.deepEqual(lines, [], "nothing before the guest asks");
        assert.equal(await ask("PUT", "/latest/api/token"), 200, "the service itself answers");
        await ask("GET", "/latest/meta-data/instance-id");
        assert.deepEqual(lines, ["metadata service 169.254.169.254:80: first request (PUT /latest/api/token)"]);
    } finally {
        await close();
    }
});

test("each check is told as it ends, passed or FAILED, with its family's command", async () => {
    const lines: string[] = [];
    const local = async (command: string) => {
        const r = spawnSync("sh", ["-c", command], { encoding: "utf8" });
        return { code: r.status, out: r.stdout + r.stderr };
    };
    const results = await runCheckList(
        [
            { name: "a check that holds", run: "true" },
            { name: "per family", run: { Debian: "exit 0", RedHat: "exit 1" } },
            { name: "a check that does not", run: "echo no such thing; exit 3" },
        ],
        "Debian",
        local,
        (l) => lines.push(l),
    );
    assert.deepEqual(lines, ["check passed: a check that holds", "check passed: per family", "check FAILED: a check that does not"]);
    assert.deepEqual(results.map((r) => [r.ok, r.detail]), [[true, undefined], [true, undefined], [false, "no such thing"]]);
});

const noQemu = missingTool("qemu-system-x86_64") ?? missingTool("qemu-img") ?? noIso;

test("an image with nothing readable on it is refused before any boot, and says so", { skip: noQemu ?? missingTool("guestfish") }, async () => {
    const disk = path.join(work, "blank.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", disk, "16M"]);
    const lines: string[] = [];
    const result = await firstBoot({
        provider: "openstack",
        firstBoot: openstack,
        artifact: disk,
        format: "qcow2",
        defaultUsers: ["debian"],
        imdsV2Only: false,
        buildKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBuildKeyOfThisTestOnly0000000000000 test",
        serialLog: path.join(work, "blank-serial.log"),
        bootTimeoutSec: 3,
        log: (l) => lines.push(l),
    });
    assert.equal(result.ok, false);
    assert.match(String(result.failure), /check failed: offline: the image can be read .*no operating system was found/);
    assert.equal(result.login, "none (refused before booting)");
    assert.ok(!lines.some((l) => /QEMU started/.test(l)), lines.join("\n"));
});

test("a boot tells when QEMU started; a guest that never comes up goes no further", { skip: noQemu }, async () => {
    // A blank disk: the BIOS finds nothing to boot, and the boot gives up after its timeout.
    const disk = path.join(work, "blank-boot.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", disk, "16M"]);
    let started: { port: number } | undefined;
    let probed = false;
    const boot = await bootAndProbe({
        disk,
        format: "qcow2",
        bus: "scsi",
        timeoutSec: 3,
        logFile: path.join(work, "blank-boot-serial.log"),
        requireLogin: false,
        onStart: ({ port }) => (started = { port }),
        probe: async () => (probed = true),
    });
    assert.equal(boot.booted, false);
    assert.equal(boot.reason, "timeout");
    assert.ok(started && started.port > 0, "onStart told the SSH forward");
    assert.equal(probed, false, "no probe of a guest that never came up");
});

test("checks ride out sshd restarting during the first boot; a refusal or an sshd that stays away is final", async () => {
    // A stand-in ssh: reset by the peer (the guest restarting sshd) for its first N calls.
    const bin = fs.mkdtempSync(path.join(work, "ssh-"));
    const count = path.join(bin, "count");
    const fake = (behaviour: string) =>
        fs.writeFileSync(path.join(bin, "ssh"), `#!/bin/sh\nn=$(cat ${count} 2>/dev/null || echo 0); echo $((n + 1)) > ${count}\n${behaviour}\n`, { mode: 0o755 });
    const target = { port: 1, user: "u", key: "/dev/null" };
    const PATH = process.env.PATH;
    process.env.PATH = `${bin}:${PATH}`;
    try {
        const reset = 'echo "kex_exchange_identification: read: Connection reset by peer" >&2; exit 255';
        fake(`[ "$n" -lt 2 ] && { ${reset}; }; echo ok`);
        const r = await sshSteady(target, "true", 10, 30);
        assert.equal(r.code, 0);
        assert.equal(r.retried, 2);
        // Negative controls: sshd never back within the budget; a refusal is not retried.
        fs.rmSync(count);
        fake(reset);
        const away = await sshSteady(target, "true", 10, 4);
        assert.equal(away.code, 255);
        assert.ok(away.retried >= 1);
        fs.rmSync(count);
        fake('echo "u@127.0.0.1: Permission denied (publickey)." >&2; exit 255');
        const refused = await sshSteady(target, "true", 10, 30);
        assert.equal(refused.code, 255);
        assert.equal(refused.retried, 0);
    } finally {
        process.env.PATH = PATH;
    }
});

test("the offline read's parsers: key bodies, password users, passwordless sudo lines", () => {
    const key = "AAAAC3NzaC1lZDI1NTE5AAAAIPNvVUvvJNhapv5J5TmcItuJluYxaANVsEM5hMfew8gE";
    assert.deepEqual(keyBodies(`# comment\n\nssh-ed25519 ${key} a@b\nno-pty,command="x y" ssh-rsa ${key.replace("C3", "B3")} c\n`), [key, key.replace("C3", "B3")]);
    // A line that is no key at all still counts (sshd would try it): reported as it is.
    assert.deepEqual(keyBodies("garbage\n"), ["garbage"]);
    assert.deepEqual(passwordUsers("root:!:19000::::::\ndaemon:*:19000::::::\nalice:$6$salt$hash:19000::::::\nbob::19000::::::\n"), ["alice", "bob"]);
    assert.deepEqual(nopasswdLines("# x NOPASSWD: ALL\nDefaults !requiretty\nroot ALL=(ALL) ALL\nvagrant ALL=(ALL) NOPASSWD: ALL\n%wheel ALL=(ALL) NOPASSWD:ALL\n"), ["vagrant ALL=(ALL) NOPASSWD: ALL", "%wheel ALL=(ALL) NOPASSWD:ALL"]);
});

test("the way in is enabled in the image: a *.wants link, not masked, cloud-init not switched off; any one name of a group", () => {
    const wants = (unit: string) => ({ [`/etc/systemd/system/*.wants/${unit}`]: [`/etc/systemd/system/multi-user.target.wants/${unit}`] });
    const units = [["ssh.service", "sshd.service"], ["cloud-init.service"]];
    const good = { ...wants("ssh.service"), ...wants("cloud-init.service") };
    const absent = { "/etc/cloud/cloud-init.disabled": null };
    assert.deepEqual(disabledUnits(units, good, absent), []);
    // The controls: each way of switching it off is found.
    assert.deepEqual(disabledUnits(units, wants("cloud-init.service"), absent), ["ssh.service is not enabled (no *.wants/ link) and sshd.service is not enabled (no *.wants/ link)"]);
    assert.deepEqual(disabledUnits(units, good, { "/etc/cloud/cloud-init.disabled": "" }), ["/etc/cloud/cloud-init.disabled switches cloud-init off"]);
    const masked = { ...good, "/etc/systemd/system/cloud-init.servic[e]": ["/etc/systemd/system/cloud-init.service"] };
    for (const read of [null, ""]) assert.deepEqual(disabledUnits(units, masked, { ...absent, "/etc/systemd/system/cloud-init.service": read }), ["cloud-init.service is masked (/etc/systemd/system/cloud-init.service → /dev/null)"]);
    // An override unit file of its own (it resolves) is no mask.
    assert.deepEqual(disabledUnits(units, masked, { ...absent, "/etc/systemd/system/cloud-init.service": "[Unit]\n" }), []);
});

test("a QEMU killed by a signal is a failure of this machine, told apart from an image that does not boot", { skip: noQemu }, async () => {
    // Stand-in QEMUs: one that crashes (SIGSEGV, as seen once loading an initramfs), one that exits 1.
    const bin = fs.mkdtempSync(path.join(work, "qemu-"));
    const disk = path.join(work, "blank-infra.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", disk, "16M"]);
    const PATH = process.env.PATH;
    process.env.PATH = `${bin}:${PATH}`;
    const boot = async (behaviour: string) => {
        fs.writeFileSync(path.join(bin, "qemu-system-x86_64"), `#!/bin/sh\n${behaviour}\n`, { mode: 0o755 });
        return bootAndProbe({ disk, format: "qcow2", timeoutSec: 20, logFile: path.join(work, "infra-serial.log"), requireLogin: false });
    };
    try {
        const crashed = await boot("sleep 1; kill -SEGV $$");
        assert.equal(crashed.booted, false);
        assert.equal(infrastructureFailure(crashed), "qemu exited (signal SIGSEGV)");
        const port = await boot('echo "qemu-system-x86_64: Could not set up host forwarding rule \'tcp:127.0.0.1:2222-:22\'" >&2; exit 1');
        assert.match(String(infrastructureFailure(port)), /^qemu: .*Could not set up host forwarding rule/);
        // The control: QEMU that exits on its own is about the image or its arguments, not this machine.
        const exited = await boot("sleep 1; exit 1");
        assert.equal(exited.reason, "qemu exited (code 1)");
        assert.equal(infrastructureFailure(exited), undefined);
    } finally {
        process.env.PATH = PATH;
    }
});

/** A root file system of this machine's sh and id (and their libraries), as a rootfs.tar.gz. */
function tinyRootfs(dir: string): string {
    const root = path.join(dir, "root");
    const libs = execFileSync("ldd", ["/bin/sh", "/usr/bin/id"], { encoding: "utf8" }).match(/\/\S+\.so[.\d]*/g) ?? [];
    for (const f of ["/bin/sh", "/usr/bin/id", ...new Set(libs)]) {
        fs.mkdirSync(path.join(root, path.dirname(f)), { recursive: true });
        fs.copyFileSync(f, path.join(root, f));
        fs.chmodSync(path.join(root, f), 0o755);
    }
    const tar = path.join(dir, "rootfs.tar.gz");
    execFileSync("tar", ["-czf", tar, "-C", root, "."]);
    return tar;
}

const noPodman = process.getuid?.() !== 0 ? "needs root (podman with the CI's cgroup set-up)" : missingTool("podman");

test("docker: the publisher's Dockerfile is built and its own CMD run as its default user; a CMD that cannot start fails; no runtime is no test", { skip: noPodman }, async () => {
    const dir = fs.mkdtempSync(path.join(work, "container-"));
    const rootfs = tinyRootfs(dir);
    const dockerfile = (cmd: string) => {
        const f = path.join(dir, `Dockerfile-${cmd.length}`);
        fs.writeFileSync(f, `FROM scratch\nADD rootfs.tar.gz /\nCMD ["${cmd}"]\n`);
        return f;
    };
    const fb = { ...docker, contract: [{ name: "commands run as a user that is not root", run: '[ "$(id -u)" != 0 ]' }] };
    const scratchDir = () => fs.mkdtempSync(path.join(dir, "w-"));
    const keep = scratchDir();
    const good = await runContainer(rootfs, dockerfile("/bin/sh"), fb, scratchDir(), undefined, keep);
    assert.deepEqual(good.checks.map((c) => [c.name, c.ok]), [['its own CMD (["/bin/sh"]) starts as its default user (root, uid 0)', true], ["commands run as a user that is not root", true]]);
    assert.match(good.login, /^podman build of the publisher's Dockerfile \(image [0-9a-f]{12}/);
    // What passed is kept for the publisher: a docker-archive of that very image (its config is the id), tagged with it.
    const manifest = JSON.parse(execFileSync("tar", ["-xzOf", path.join(keep, TESTED_ARCHIVE), "manifest.json"], { encoding: "utf8" }));
    assert.equal(manifest[0].Config.replace(/^(blobs\/sha256\/)?/, "").replace(/\.json$/, ""), good.image.id.replace(/^sha256:/, ""));
    assert.deepEqual(manifest[0].RepoTags, [good.image.ref]);
    assert.match(good.image.ref, TESTED_TAG);
    // The control: an image whose CMD is not there fails that check, and nothing is kept.
    const keepBroken = scratchDir();
    const broken = await runContainer(rootfs, dockerfile("/bin/bash-not-there"), fb, scratchDir(), undefined, keepBroken);
    assert.equal(broken.checks[0].ok, false, JSON.stringify(broken.checks[0]));
    assert.deepEqual(fs.readdirSync(keepBroken), [], "a failed image is not saved");
    // No runtime: an error that says how to install one, not a chroot.
    const PATH = process.env.PATH;
    process.env.PATH = fs.mkdtempSync(path.join(dir, "empty-bin-"));
    try {
        await assert.rejects(runContainer(rootfs, dockerfile("/bin/sh"), fb, scratchDir()), /no container runtime: podman: .*apt-get install podman/);
    } finally {
        process.env.PATH = PATH;
    }
});
