// The artifact store against real servers on loopback, started here: a directory, S3
// (s3rver, the maintained fork), Azure Blob (Azurite), and GCS (a fake of its JSON API: no
// local server exists; what that leaves unverified is in the README). For each: a stage is
// stored and found by fingerprint, restored on "another machine" (an empty cache), a corrupted
// object is refused and rebuilt, a kill -9 during the upload leaves nothing a later run trusts
// (and the retry stores the build without building again), two runs racing for a fingerprint
// leave one good stage, gc keeps what a stack references or a run used (also while gc runs),
// a local copy is hashed before it is trusted, a manifest unsigned, signed by another key or
// changed under its signature is refused where keys are trusted, an export is made and removed.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { BlobServiceClient } from "@azure/storage-blob";
import { openObject, openStore } from "../../components/store";
import { gc, writeRefs } from "../../components/store/gc";
import { LocalStore, ObjectStore } from "../../components/store/object-store";
import { mainFile, runStage, storedStage } from "../../components/store/run-stage";
import { blobKey, hashStream, localBlob, markUsed, readManifest, restoreStage, usedKey, verifyStage } from "../../components/store/stages";
import { pipeline } from "node:stream/promises";
import { repoRoot } from "../../components/recipe/paths";
import { Server, startAzurite, startFakeGcs, startS3rver } from "../support/store-servers";
import { tempDir } from "../support/tools";

const MiB = 1024 * 1024;
const work = tempDir("store");
const servers: Server[] = [];
const urls: Record<string, string> = {};
let gcs: Awaited<ReturnType<typeof startFakeGcs>>;

before(async () => {
    const [s3, azure] = await Promise.all([startS3rver(path.join(work, "s3rver"), ["gold-store", "gold-export"]), startAzurite(path.join(work, "azurite"))]);
    gcs = await startFakeGcs("gold-store");
    servers.push(s3, azure, gcs);
    Object.assign(process.env, s3.env, azure.env);
    const blobs = BlobServiceClient.fromConnectionString(
        `DefaultEndpointsProtocol=http;AccountName=${azure.env.AZURE_STORAGE_ACCOUNT};AccountKey=${azure.env.AZURE_STORAGE_KEY};BlobEndpoint=${azure.env.AZURE_STORAGE_BLOB_ENDPOINT};`,
    );
    for (const c of ["gold-store", "gold-export"]) await blobs.getContainerClient(c).createIfNotExists();
    urls.directory = `file://${path.join(work, "local-store")}`;
    urls.s3 = `s3://gold-store/team?endpoint=http://127.0.0.1:${s3.port}`;
    urls.azblob = `azblob://${azure.env.AZURE_STORAGE_ACCOUNT}/gold-store/team`;
    urls.gs = `gs://gold-store/team?endpoint=http://127.0.0.1:${gcs.port}`;
});

after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    fs.rmSync(work, { recursive: true, force: true });
});

const fp = (label: string) => createHash("sha256").update(`${label} ${Math.random()}`).digest("hex");

/**
 * A build as the stage commands make one: DIR with the artifact, SHA256SUMS and a context/
 * with a hard link of the artifact; $COUNT counts the builds. SIZE MiB of random bytes.
 */
function buildCommand(dir: string, count: string, sizeMiB = 2): string {
    return [
        `echo x >> ${count}`,
        `mkdir -p ${dir}/context`,
        `head -c ${sizeMiB * MiB} /dev/urandom > ${dir}/disk.img`,
        `ln ${dir}/disk.img ${dir}/context/rootfs.tar.gz`,
        `echo FROM scratch > ${dir}/context/Dockerfile`,
        `(cd ${dir} && sha256sum disk.img > SHA256SUMS)`,
        `printf '{"artifact": "%s", "sha256": "%s", "bytes": %s, "format": "raw", "context": "%s"}' "$(realpath ${dir}/disk.img)" "$(cut -d' ' -f1 ${dir}/SHA256SUMS)" "$(stat -c %s ${dir}/disk.img)" "$(realpath ${dir})/context"`,
    ].join(" && ");
}

const builds = (count: string) => (fs.existsSync(count) ? fs.readFileSync(count, "utf8").trim().split("\n").length : 0);

for (const kind of ["directory", "s3", "azblob", "gs"] as const) {
    describe(`store: ${kind}`, () => {
        let store: ObjectStore;
        let scratch: string;
        const cache = () => new LocalStore("cache", path.join(scratch, `cache-${randomBytes(3).toString("hex")}`));
        const stage = (fingerprint: string, dir: string, count: string, extra: { sizeMiB?: number; input?: string } = {}) =>
            runStage({ store, cache: cache(), fingerprint, stage: `t-${kind}`, dir, command: buildCommand(dir, count, extra.sizeMiB), input: extra.input, pageBlob: kind === "azblob", log: () => undefined });

        before(() => {
            store = openStore(urls[kind]);
            scratch = path.join(work, kind);
            fs.mkdirSync(scratch, { recursive: true });
        });

        test("a stage is stored by fingerprint, found (verified) without building, and restored on another machine", async () => {
            const f = fp("stored");
            const count = path.join(scratch, "count-stored");
            const dir = path.join(scratch, "build-stored");
            const first = await stage(f, dir, count);
            assert.equal(builds(count), 1);
            assert.ok(!fs.existsSync(dir), "the build directory goes once stored");
            assert.equal(first.fingerprint, f);
            assert.equal(first.format, "raw");
            assert.ok(!("context" in first), "no local path in the result");
            assert.match(String(first.key), /^blobs\/[0-9a-f]{64}\/disk\.img$/);
            const again = await stage(f, dir, count);
            assert.equal(builds(count), 1, "found: not built again");
            assert.deepEqual(again, first);

            const m = (await readManifest(store, f))!;
            assert.equal(await verifyStage(store, m), undefined);
            // The hard link is one blob; the three files are three entries.
            assert.deepEqual(m.files.map((x) => x.path).sort(), ["SHA256SUMS", "context/Dockerfile", "context/rootfs.tar.gz", "disk.img"]);
            assert.equal(new Set(m.files.map((x) => x.key)).size, 3);
            // Another machine: an empty cache; the artifact is downloaded and checked.
            const local = await localBlob(store, cache(), mainFile(m));
            assert.equal(createHash("sha256").update(fs.readFileSync(local)).digest("hex"), m.result.sha256);
            const restored = path.join(scratch, "restored");
            await restoreStage(store, cache(), m, restored);
            assert.equal(fs.readFileSync(path.join(restored, "context/Dockerfile"), "utf8"), "FROM scratch\n");
            assert.equal(fs.statSync(path.join(restored, "context/rootfs.tar.gz")).size, 2 * MiB);

            // A stage that takes its input as it is (a test passing its image on) names the input's blob.
            const tested = fp("tested");
            const tdir = path.join(scratch, "build-tested");
            const seen = path.join(scratch, "seen-input");
            const t = await runStage({
                store, cache: cache(), fingerprint: tested, stage: "test", dir: tdir, input: f, log: () => undefined,
                command: `mkdir -p ${tdir} && echo ok > ${tdir}/report.json && cat "$GOLD_INPUT_DIR/context/Dockerfile" > ${seen}.dockerfile && (cd "$GOLD_INPUT_DIR" && find . ! -type d | sort) > ${seen}.listing && echo "$GOLD_INPUT_DIR" > ${seen}.dir && printf '{"artifact": "%s", "sha256": "%s", "bytes": 1, "ok": true}' "$GOLD_INPUT" "$GOLD_INPUT_SHA256"`,
            });
            assert.equal(t.key, first.key);
            assert.equal(t.ok, true);
            // Beside its input, the input stage's small files (a Dockerfile), not its big ones; gone after.
            assert.equal(fs.readFileSync(`${seen}.dockerfile`, "utf8"), "FROM scratch\n");
            assert.deepEqual(fs.readFileSync(`${seen}.listing`, "utf8").trim().split("\n"), ["./SHA256SUMS", "./context/Dockerfile", "./disk.img"]);
            assert.ok(!fs.existsSync(fs.readFileSync(`${seen}.dir`, "utf8").trim()), "$GOLD_INPUT_DIR is removed after the build");
        });

        test("a corrupted object is refused (sha256 mismatch) and the stage built again", async () => {
            const f = fp("corrupt");
            const count = path.join(scratch, "count-corrupt");
            const dir = path.join(scratch, "build-corrupt");
            const first = await stage(f, dir, count);
            // Same size, other bytes, written where the artifact was.
            const other = path.join(scratch, "other.img");
            fs.writeFileSync(other, randomBytes(2 * MiB));
            await store.upload(String(first.key), other, { page: kind === "azblob" });
            const m = (await readManifest(store, f))!;
            // Hashed (a directory), or written again after the manifest recorded the service's version.
            const refused = /written again after its stage was stored \(the service's version|its bytes have sha256 [0-9a-f]{64}, the manifest says/;
            assert.match(String(await verifyStage(store, m)), refused);
            if (kind !== "directory") {
                // Other bytes written behind the writer's back with its metadata intact (the right
                // sha256: metadata is anyone's to set): refused, the service's version tells.
                await store.upload(String(first.key), other, { sha256: String(first.sha256) });
                assert.equal((await store.stat(String(first.key)))?.sha256, first.sha256, "control: the metadata a writer checks is intact");
                assert.match(String(await verifyStage(store, m)), /written again after its stage was stored/);
                // A manifest from before versions: its blobs are hashed, and refused the same.
                const old = { ...m, files: m.files.map(({ version: _v, ...rest }) => rest) };
                assert.ok(m.files.every((x) => typeof x.version === "string" && x.version.length > 0), "every blob's version recorded");
                assert.match(String(await verifyStage(store, old)), /its bytes have sha256 [0-9a-f]{64}, the manifest says/);
                await assert.rejects(localBlob(store, cache(), mainFile(m)), /has sha256 [0-9a-f]{64}, not [0-9a-f]{64}: refused/);
                await store.upload(String(first.key), other, {});
            }
            const rebuilt = await stage(f, dir, count);
            assert.equal(builds(count), 2, "built again");
            assert.equal(await verifyStage(store, (await readManifest(store, f))!), undefined);
            assert.notEqual(rebuilt.sha256, first.sha256);
        });

        test("a blob written again with the same bytes (a copied store, a re-upload) is found, hashed; an existing blob is reused only when its bytes are right", async () => {
            const f = fp("rewritten");
            const count = path.join(scratch, "count-rewritten");
            const dir = path.join(scratch, "build-rewritten");
            const first = await stage(f, dir, count);
            const m = (await readManifest(store, f))!;
            const same = path.join(scratch, "same.img");
            await pipeline(await store.open(String(first.key)), fs.createWriteStream(same));
            await store.upload(String(first.key), same, { page: kind === "azblob", sha256: String(first.sha256) });
            // (Azure's ETag and GCS's generation are new at every write; S3's ETag is the MD5 S3 computed of the bytes.)
            if (kind === "azblob" || kind === "gs") assert.notEqual((await store.stat(String(first.key)))?.version, mainFile(m).version, "another version");
            assert.equal(await verifyStage(store, m), undefined, "the same bytes: found");
            // Another stage of the same content finds that blob there, tampered (other bytes, the
            // right metadata): it is not reused but written again, and both stages verify.
            const other = path.join(scratch, "other-rewritten.img");
            fs.writeFileSync(other, randomBytes(fs.statSync(same).size));
            await store.upload(String(first.key), other, { sha256: String(first.sha256) });
            const g = fp("same content");
            const gdir = path.join(scratch, "build-same-content");
            const again = await runStage({
                store, cache: cache(), fingerprint: g, stage: `t-${kind}`, dir: gdir, pageBlob: kind === "azblob", log: () => undefined,
                command: `mkdir -p ${gdir} && cp ${same} ${gdir}/disk.img && printf '{"artifact": "%s", "sha256": "%s", "bytes": %s}' ${gdir}/disk.img ${first.sha256} $(stat -c %s ${same})`,
            });
            assert.equal(again.key, first.key, "the same content, the same blob key");
            assert.equal(await verifyStage(store, (await readManifest(store, g))!), undefined, "the new stage's blob is its bytes");
            assert.equal((await hashStream(await store.open(String(first.key)))).sha256, first.sha256, "the tampered blob was written again, not reused");
        });

        test("kill -9 during the upload: nothing a later run trusts; the retry stores the build without building it again", async () => {
            const f = fp("killed");
            const count = path.join(scratch, "count-killed");
            const dir = path.join(scratch, "build-killed");
            const size = kind === "directory" ? 8 : 96;
            const child = spawn(
                process.execPath,
                ["--require", "ts-node/register", path.join(repoRoot, "scripts/store.ts"), "run", "--store", urls[kind], "--fingerprint", f, "--stage", "killed", "--dir", dir, "--command", buildCommand(dir, count, size), ...(kind === "azblob" ? ["--page-blob", "yes"] : [])],
                { cwd: repoRoot, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", GOLD_STORE_CACHE: path.join(scratch, "cache-killed") }, stdio: "ignore" },
            );
            // The small files go up first, the artifact last: once SHA256SUMS is there, the artifact is on its way.
            const before = new Set((await store.list("blobs/")).map((o) => o.key));
            // (A directory store links the files in at once: there, the kill comes as the build ends.)
            // The build's result, read as soon as it is there: the run removes it once the stage is stored.
            let resultText: string | undefined;
            const readResult = () => {
                try {
                    resultText ??= fs.readFileSync(`${dir}.result.json`, "utf8");
                } catch {
                    // not written yet
                }
                return resultText !== undefined;
            };
            const started = async () =>
                kind === "directory" ? readResult() : (await store.list("blobs/")).some((o) => !before.has(o.key) && o.key.endsWith("/SHA256SUMS"));
            while (!(await started()) && child.exitCode === null) await new Promise((r) => setTimeout(r, kind === "directory" ? 2 : 20));
            await new Promise((r) => setTimeout(r, kind === "directory" ? 0 : 30));
            assert.equal(child.exitCode, null, "still running when killed");
            child.kill("SIGKILL");
            await new Promise((r) => child.once("exit", r));
            const manifest = await readManifest(store, f);
            readResult();
            assert.ok(resultText, "the build wrote its result before the kill");
            const result = JSON.parse(resultText);
            const key = blobKey(result.sha256, "disk.img");
            const info = await store.stat(key);
            console.log(`# ${kind}: after the kill: manifest ${manifest ? "written" : "absent"}, artifact ${info ? `${info.bytes} bytes, complete ${info.complete}` : "absent"}`);
            // A directory store links the files in at once: on a loaded machine the kill may come
            // after its manifest. Then the stage it names must be whole (the retry finds it).
            if (kind === "directory" && manifest) assert.equal(await verifyStage(store, manifest), undefined, "a manifest written before the kill names a whole stage");
            else assert.equal(manifest, undefined, "killed before its manifest: no stage");
            // Whatever the kill left is not a stage; an object that says it is complete is whole.
            if (info?.complete) assert.equal(info.bytes, size * MiB);
            // A page blob exists at full size from its first byte: unmarked, it is not complete.
            if (kind === "azblob" && info) assert.equal(info.complete, false);
            const retried = await stage(f, dir, count, { sizeMiB: size });
            assert.equal(builds(count), 1, "the retry stored the earlier build");
            assert.equal(retried.sha256, result.sha256);
            assert.equal(await verifyStage(store, (await readManifest(store, f))!), undefined);
        });

        test("two runs racing for one fingerprint leave one good stage; gc removes the loser's blobs", async () => {
            const f = fp("race");
            const count = path.join(scratch, "count-race");
            // Blobs of earlier tests (a killed upload's leftovers among them) are not this race's.
            const earlier = new Set((await store.list("blobs/")).map((o) => o.key));
            const [a, b] = await Promise.all([stage(f, path.join(scratch, "race-a"), count), stage(f, path.join(scratch, "race-b"), count)]);
            assert.equal(builds(count), 2);
            const m = (await readManifest(store, f))!;
            assert.ok([a.sha256, b.sha256].includes(m.result.sha256));
            assert.equal(await verifyStage(store, m), undefined);
            // The first manifest stands and both runs print it: every stack that used the
            // fingerprint names the same bytes. (s3rver ignores If-None-Match on PUT, which AWS S3
            // honours: there only the HEAD before the write guards, and the two may differ.)
            if (kind !== "s3") assert.equal(a.sha256, b.sha256, "the second run adopted the first's stage");
            // A second write of the manifest is refused by every store (the race lost, after the fact).
            assert.equal(await store.createText(`stages/${f}/manifest.json`, "{}"), false);
            assert.equal((await readManifest(store, f))!.result.sha256, m.result.sha256);
            // The other build's blobs stay until gc; everything else in this store is referenced.
            const named = new Set(m.files.map((x) => x.key));
            const all = (await store.list("stages/")).map((o) => o.key.split("/")[1]);
            const dry = await gc(store, { minAgeHours: 0, apply: false, keep: all });
            const loser = dry.blobs.removed.find((k) => k.startsWith("blobs/") && k.endsWith("/disk.img") && !named.has(k) && !earlier.has(k));
            assert.ok(loser, `the other build's artifact is there until gc: ${JSON.stringify(dry)}`);
            if (a.sha256 !== b.sha256) assert.equal(loser, String((m.result.sha256 === a.sha256 ? b : a).key));
            const report = await gc(store, { minAgeHours: 0, apply: true, keep: all });
            assert.deepEqual(report.stages.removed, []);
            assert.ok(report.blobs.removed.includes(loser), JSON.stringify(report));
            assert.equal(await store.stat(loser), undefined);
            assert.equal(await verifyStage(store, m), undefined);
        });

        test("gc: a dry run by default; keeps what a stack references and what is young; removes the rest", async () => {
            const kept = fp("kept");
            const dropped = fp("dropped");
            const count = path.join(scratch, "count-gc");
            await stage(kept, path.join(scratch, "gc-kept"), count);
            const gone = await stage(dropped, path.join(scratch, "gc-dropped"), count);
            const others = (await store.list("stages/")).map((o) => o.key.split("/")[1]).filter((x) => x !== kept && x !== dropped);
            await writeRefs(store, "gold-images.1.0.0", [kept, ...others]);
            const young = await gc(store, { minAgeHours: 1, apply: true });
            assert.deepEqual(young.stages.removed, [], "younger than an hour: kept");
            const dry = await gc(store, { minAgeHours: 0, apply: false });
            assert.deepEqual(dry.stages.removed, [`stages/${dropped}/manifest.json`]);
            assert.ok(await readManifest(store, dropped), "a dry run deletes nothing");
            const real = await gc(store, { minAgeHours: 0, apply: true });
            assert.deepEqual(real.stages.removed, [`stages/${dropped}/manifest.json`]);
            assert.equal(await readManifest(store, dropped), undefined);
            assert.equal(await store.stat(String(gone.key)), undefined);
            assert.equal(await verifyStage(store, (await readManifest(store, kept))!), undefined);
        });

        test("a local copy is hashed before it is trusted: a changed byte of the same size is downloaded again (a cache) or refused (place, export)", async () => {
            const f = fp("hashed");
            await stage(f, path.join(scratch, "build-hashed"), path.join(scratch, "count-hashed"));
            const m = (await readManifest(store, f))!;
            const main = mainFile(m);
            const flip = (file: string) => {
                const fd = fs.openSync(file, "r+");
                const b = Buffer.alloc(1);
                fs.readSync(fd, b, 0, 1, 4096);
                b[0] ^= 0xff;
                fs.writeSync(fd, b, 0, 1, 4096);
                fs.closeSync(fd);
            };
            const sum = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
            if (kind === "directory") {
                const file = (store as LocalStore).file(main.key);
                const copy = `${file}.saved`;
                fs.copyFileSync(file, copy);
                flip(file);
                try {
                    await assert.rejects(localBlob(store, cache(), main, undefined, { verify: true }), /has sha256 [0-9a-f]{64}, not [0-9a-f]{64}: refused/);
                    // The control: a stage's input read (no verify) takes it by size, as before.
                    assert.equal(await localBlob(store, cache(), main), file);
                } finally {
                    fs.renameSync(copy, file);
                }
                return;
            }
            const machine = cache();
            const first = await localBlob(store, machine, main);
            assert.equal(sum(first), main.sha256);
            flip(first);
            assert.notEqual(sum(first), main.sha256, "the control: the copy was changed, its size kept");
            const lines: string[] = [];
            const again = await localBlob(store, machine, main, (l) => lines.push(l));
            assert.equal(again, first);
            assert.equal(sum(again), main.sha256, "downloaded again");
            assert.ok(lines.some((l) => /cached copy does not have its sha256/.test(l)), lines.join("\n"));
        });

        test("signed manifests: a stage signed by a trusted key is taken; unsigned, signed by another key, or changed under its signature is refused", async () => {
            const f = fp("signed");
            const count = path.join(scratch, "count-signed");
            const dir = path.join(scratch, "build-signed");
            const keys = (label: string) => {
                const { privateKey, publicKey } = generateKeyPairSync("ed25519");
                const priv = path.join(scratch, `${label}.key`);
                fs.writeFileSync(priv, privateKey.export({ type: "pkcs8", format: "pem" }));
                return { priv, pub: String(publicKey.export({ type: "spki", format: "pem" })) };
            };
            const a = keys("a");
            const b = keys("b");
            const withEnv = async <T>(env: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> => {
                const saved = { GOLD_STORE_SIGNING_KEY: process.env.GOLD_STORE_SIGNING_KEY, GOLD_STORE_TRUSTED_KEYS: process.env.GOLD_STORE_TRUSTED_KEYS };
                for (const [k, v] of Object.entries({ GOLD_STORE_SIGNING_KEY: undefined, GOLD_STORE_TRUSTED_KEYS: undefined, ...env })) if (v === undefined) delete process.env[k]; else process.env[k] = v;
                try {
                    return await fn();
                } finally {
                    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
                }
            };
            const signer = { GOLD_STORE_SIGNING_KEY: a.priv, GOLD_STORE_TRUSTED_KEYS: a.pub };
            // Unsigned first (a store written before signing, or by a writer without the key).
            const unsigned = await withEnv({}, () => stage(f, dir, count));
            await withEnv({}, async () => assert.equal((await storedStage(store, f)).result.sha256, unsigned.sha256, "no keys: taken as before"));
            await withEnv({ GOLD_STORE_TRUSTED_KEYS: a.pub }, () => assert.rejects(storedStage(store, f), /is refused: its manifest is not signed/));
            // A builder that trusts keys but cannot sign is stopped before building.
            await withEnv({ GOLD_STORE_TRUSTED_KEYS: a.pub }, () => assert.rejects(stage(f, dir, count), /GOLD_STORE_SIGNING_KEY is not: a stage stored here would be unsigned/));
            await withEnv({ GOLD_STORE_SIGNING_KEY: b.priv, GOLD_STORE_TRUSTED_KEYS: a.pub }, () => assert.rejects(stage(f, dir, count), /is not among GOLD_STORE_TRUSTED_KEYS/));
            assert.equal(builds(count), 1);
            // The signing machine builds it again, and its signed manifest replaces the unsigned one.
            const signed = await withEnv(signer, () => stage(f, dir, count));
            assert.equal(builds(count), 2);
            const stored = (await store.readText(`stages/${f}/manifest.json`))!;
            const envelope = JSON.parse(stored);
            assert.equal(envelope.payloadType, "application/vnd.gold-images.stage-manifest+json");
            assert.equal(envelope.signatures.length, 1);
            await withEnv(signer, async () => assert.equal((await storedStage(store, f)).result.sha256, signed.sha256));
            assert.deepEqual(await withEnv(signer, () => stage(f, dir, count)), signed, "found, signed: not built again");
            assert.equal(builds(count), 2);
            // Readers that trust another key refuse it; a reader that asks for no signature reads the payload.
            await withEnv({ GOLD_STORE_TRUSTED_KEYS: b.pub }, () => assert.rejects(storedStage(store, f), /signature is by no trusted key \(signed by [0-9a-f]{12}/));
            await withEnv({ GOLD_STORE_TRUSTED_KEYS: `${b.pub}\n${a.pub}` }, async () => assert.ok(await storedStage(store, f), "either of two trusted keys (a rotation)"));
            // Whoever can write to the store changes what the manifest names; the signature no longer matches.
            const payload = JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8"));
            const forged = { ...envelope, payload: Buffer.from(JSON.stringify({ ...payload, result: { ...payload.result, forged: true } }, null, 2) + "\n").toString("base64") };
            await store.uploadText(`stages/${f}/manifest.json`, JSON.stringify(forged));
            await withEnv({ GOLD_STORE_TRUSTED_KEYS: a.pub }, () => assert.rejects(storedStage(store, f), /by no trusted key .* or does not match its bytes/));
            // The control: without trusted keys the same forgery is read (what signing is for).
            await withEnv({}, async () => assert.equal((await storedStage(store, f)).result.forged, true));
            await store.uploadText(`stages/${f}/manifest.json`, stored);
        });

        test("a manifest is replaced only while it is the one that was judged (If-Match / ifGenerationMatch / a lock and compare)", async () => {
            const key = `stages/${fp("cas")}/manifest.json`;
            await store.uploadText(key, "first\n");
            const seen = (await store.readVersioned(key))!;
            assert.equal(seen.text, "first\n");
            // Another writer replaces it after this one read it.
            assert.equal(await store.replaceText(key, "second\n", seen.version), true);
            // The control: the same version again is stale now; the write is refused, the other writer's stays.
            assert.equal(await store.replaceText(key, "third\n", seen.version), false);
            assert.equal(await store.readText(key), "second\n");
            const now = (await store.readVersioned(key))!;
            assert.notEqual(now.version, seen.version);
            assert.equal(await store.replaceText(key, "third\n", now.version), true);
            assert.equal(await store.readText(key), "third\n");
            // Nothing there: nothing to replace.
            assert.equal(await store.replaceText(`stages/${fp("none")}/manifest.json`, "x", now.version), false);
            await store.remove(key);
        });

        test("gc racing a run that finds the stage: the reader marks it used, and gc keeps the stage and its blobs", async () => {
            const f = fp("gc-race");
            const count = path.join(scratch, "count-gc-race");
            const dir = path.join(scratch, "build-gc-race");
            const built = await stage(f, dir, count);
            const markBefore = await store.readText(usedKey(f));
            assert.ok(markBefore, "the build's lookup left a last-use mark");
            // The reader arrives at the worst moment: after gc's listing and its last look at the
            // mark, right before the manifest is removed (the store's remove, wrapped).
            let found: Record<string, unknown> | undefined;
            const racing: ObjectStore = Object.create(store);
            racing.remove = async (key: string) => {
                if (key === `stages/${f}/manifest.json` && !found) {
                    found = await runStage({ store, cache: cache(), fingerprint: f, stage: `t-${kind}`, dir, command: "false", noBuild: true, log: () => undefined });
                }
                return store.remove(key);
            };
            const others = (await store.list("stages/")).map((o) => o.key.split("/")[1]).filter((x) => x !== f);
            const report = await gc(racing, { minAgeHours: 0, apply: true, keep: others });
            assert.deepEqual(found, built, "the reader found the stage, verified");
            assert.notEqual(await store.readText(usedKey(f)), markBefore, "the reader marked it used");
            assert.deepEqual(report.stages.usedMeanwhile, [f]);
            assert.deepEqual(report.stages.removed, []);
            const m = (await readManifest(store, f))!;
            assert.ok(m, "the manifest removed under the reader is back");
            assert.equal(await verifyStage(store, m), undefined, "every blob it names is there");
            assert.equal(builds(count), 1);
            // Earlier still: the reader comes between gc's listing and its look at the stage's mark.
            let early: Record<string, unknown> | undefined;
            const listing: ObjectStore = Object.create(store);
            listing.readText = async (key: string) => {
                if (key === usedKey(f) && !early) early = await runStage({ store, cache: cache(), fingerprint: f, stage: `t-${kind}`, dir, command: "false", noBuild: true, log: () => undefined });
                return store.readText(key);
            };
            const first = await gc(listing, { minAgeHours: 0, apply: true, keep: others });
            assert.deepEqual(early, built);
            assert.deepEqual(first.stages.removed, [], "the mark it read is the reader's: young");
            assert.equal(await verifyStage(store, (await readManifest(store, f))!), undefined);
            // The control: with no reader, the same gc removes it.
            const again = await gc(store, { minAgeHours: 0, apply: true, keep: others });
            assert.deepEqual(again.stages.removed, [`stages/${f}/manifest.json`]);
            assert.equal(await readManifest(store, f), undefined);
        });

        test("what a user sees on stderr: the stage's start, its transfers every 10 % (whole lines, each percent once), its end; stdout the one JSON object", async (t) => {
            const f = fp("progress");
            const dir = path.join(scratch, "build-progress");
            // A directory store links the files in (nothing moves); on another file system it copies them.
            let url = urls[kind];
            if (kind === "directory") {
                if (fs.statSync("/dev/shm", { throwIfNoEntry: false })?.dev === fs.statSync(scratch).dev || !fs.existsSync("/dev/shm")) return t.skip("no second file system (/dev/shm) to copy into");
                url = `file://${fs.mkdtempSync("/dev/shm/gold-store-")}`;
            }
            const size = kind === "directory" ? 24 : 96;
            const logged = `mkdir -p ${dir} && echo '==> step' > ${dir}/build.log && ${buildCommand(dir, path.join(scratch, "count-progress"), size)}`;
            const about = ["--stage", "Debian-12-aws", "--os", "Debian-12", "--provider", "aws"];
            try {
                const built = await runCli(["run", "--store", url, "--fingerprint", f, ...about, "--log", `${dir}.build.log`, "--dir", dir, "--command", logged, ...(kind === "azblob" ? ["--page-blob", "yes"] : [])], { GOLD_STORE_CACHE: path.join(scratch, "cache-progress") });
                assert.equal(built.code, 0, built.stderr);
                t.diagnostic(`${kind}, the stage built:\n${built.stderr}`);
                assert.equal(built.stdout.split("\n").length, 2, `one line on stdout: ${built.stdout}`);
                assert.equal(JSON.parse(built.stdout).fingerprint, f);
                const lines = built.stderr.split("\n");
                assert.equal(lines.pop(), "", "whole lines only");
                assert.equal(lines[0], `Debian-12-aws: start: OS Debian-12, provider aws, fingerprint ${f.slice(0, 12)}; a build logs to ${dir}.build.log (stored with the stage)`);
                assert.match(lines.at(-1)!, new RegExp(`^Debian-12-aws: built and stored in ${url.replace(/[?.]/g, "\\$&")} \\(${f.slice(0, 12)}\\) in \\d+ s; build\\.log stored with it$`));
                const up = transfers("Debian-12-aws", built.stderr);
                // S3's SDK reports each 64 MiB part as it completes (in Node), the others as bytes go.
                checkTransfer("upload disk.img", up.get("upload disk.img"), kind !== "s3");
                assert.deepEqual([...up.keys()], ["upload disk.img"], "small files print nothing; the cache takes a hard link");
                // (The AWS SDK adds its own warning about Node 20, not the stage's.)
                assert.equal(lines.filter((l) => l.startsWith("Debian-12-aws: ")).length, 2 + up.get("upload disk.img")!.length, "nothing else of the stage");

                // Its next stage on another machine (an empty cache) downloads it: a directory store's file is read where it is.
                const next = fp("next");
                const dir2 = path.join(scratch, "build-next");
                const test = `mkdir -p ${dir2} && echo ok > ${dir2}/result.json && printf '{"artifact": "%s", "sha256": "%s", "bytes": 1}' "$GOLD_INPUT" "$GOLD_INPUT_SHA256"`;
                const read = await runCli(["run", "--store", url, "--fingerprint", next, "--stage", "Debian-12-aws-test", "--input", f, "--dir", dir2, "--command", test], { GOLD_STORE_CACHE: path.join(scratch, "cache-elsewhere") });
                assert.equal(read.code, 0, read.stderr);
                t.diagnostic(`${kind}, the next stage:\n${read.stderr}`);
                assert.equal(read.stdout.split("\n").length, 2, `one line on stdout: ${read.stdout}`);
                const down = transfers("Debian-12-aws-test", read.stderr);
                if (kind === "directory") assert.deepEqual([...down.keys()], []);
                else checkTransfer("download disk.img", down.get("download disk.img"), true);
                assert.match(read.stderr, new RegExp(`^Debian-12-aws-test: start: fingerprint ${next.slice(0, 12)}\n`), "no OS or provider given: none said");
            } finally {
                if (kind === "directory") fs.rmSync(url.slice("file://".length), { recursive: true, force: true });
            }
        });

        test("export: a copy of a stage's artifact as another object, then removed", async () => {
            const f = fp("export");
            const first = await stage(f, path.join(scratch, "build-export"), path.join(scratch, "count-export"));
            const target =
                kind === "directory" ? `file://${path.join(scratch, "exported", "disk.vhd")}`
                : kind === "s3" ? urls.s3.replace("gold-store/team", "gold-export/1.0.0/disk.vhd")
                : kind === "azblob" ? urls.azblob.replace("gold-store/team", "gold-export/disk.vhd")
                : urls.gs.replace("gold-store/team", "gold-store/exports/disk.vhd");
            const { store: to, key } = openObject(target);
            const m = (await readManifest(store, f))!;
            await to.upload(key, await localBlob(store, cache(), mainFile(m)), { page: kind === "azblob" });
            const info = await to.stat(key);
            assert.equal(info?.bytes, first.bytes);
            assert.equal(info?.complete, true, "a page blob is marked complete when its upload ends");
            await to.remove(key);
            assert.equal(await to.stat(key), undefined);
            if (kind === "azblob") {
                // The publisher's account may not be the store's: the target's own key (GOLD_TARGET_*)
                // is used for the copy, the store's for the store. A wrong target key fails the copy.
                const cli = (targetKey: string) =>
                    runCli(["export", "--store", urls.azblob, "--fingerprint", f, "--to", target, "--page-blob", "yes"], {
                        GOLD_TARGET_AZURE_STORAGE_ACCOUNT: String(process.env.AZURE_STORAGE_ACCOUNT),
                        GOLD_TARGET_AZURE_STORAGE_KEY: targetKey,
                        GOLD_STORE_CACHE: path.join(scratch, "cache-export"),
                    });
                const wrong = await cli(Buffer.from("not the account's key").toString("base64"));
                assert.notEqual(wrong.code, 0);
                assert.equal(await to.stat(key), undefined);
                const right = await cli(String(process.env.AZURE_STORAGE_KEY));
                assert.equal(right.code, 0, right.stderr);
                assert.equal((await to.stat(key))?.complete, true);
                await to.remove(key);
            }
        });
    });
}

/** scripts/store.ts run as the program's commands run it. */
async function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, ["--require", "ts-node/register", path.join(repoRoot, "scripts/store.ts"), ...args], {
        cwd: repoRoot,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", ...env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.on("close", r));
    return { code, stdout, stderr };
}

/** A transfer's progress lines (components/progress.ts), by what moved: their percents in order. */
function transfers(stage: string, stderr: string): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const line of stderr.split("\n")) {
        const m = new RegExp(`^${stage}: ((?:upload|download|copy) .+): (\\d+)% \\([0-9.]+ [KMG]?i?B of [0-9.]+ [KMG]?i?B\\) at [0-9.]+ [KMG]?i?B/s$`).exec(line);
        if (m) out.set(m[1], [...(out.get(m[1]) ?? []), Number(m[2])]);
    }
    return out;
}

/** Checks a transfer's percents: each once, in order, to 100; every 10 % step seen when the transfer reports finely. */
function checkTransfer(name: string, percents: number[] | undefined, fine: boolean): void {
    assert.ok(percents && percents.length >= 2, `${name}: progress lines: ${percents}`);
    assert.ok(percents.every((p, i) => i === 0 || p > percents[i - 1]), `${name}: each percent once, in order: ${percents}`);
    assert.equal(percents.at(-1), 100, name);
    if (fine) for (let step = 10; step <= 100; step += 10) assert.ok(percents.some((p) => p >= step && p < step + 10), `${name}: a line at the ${step} % step: ${percents}`);
}

test("gc ages a stage by its last use: an old stage used recently stays, one unused for the minimum age goes, and so does a mark without a stage", async () => {
    const dir = path.join(work, "aged-store");
    const store = new LocalStore(`file://${dir}`, dir);
    const f = fp("aged");
    const count = path.join(work, "count-aged");
    const built = await runStage({ store, cache: new LocalStore("cache", path.join(work, "aged-cache")), fingerprint: f, stage: "aged", dir: path.join(work, "build-aged"), command: buildCommand(path.join(work, "build-aged"), count), log: () => undefined });
    const stray = fp("stray");
    await markUsed(store, stray);
    // Four days old, the lot (a directory store's times can be set; the others' are the server's).
    const days = (n: number) => new Date(Date.now() - n * 86400_000);
    const age = (key: string, when: Date) => {
        // A mark holds its time as well: both say when.
        if (key.endsWith("/used")) fs.writeFileSync(store.file(key), JSON.stringify({ used: when.toISOString(), mark: randomBytes(4).toString("hex") }) + "\n");
        fs.utimesSync(store.file(key), when, when);
    };
    for (const o of await store.list("")) age(o.key, days(4));
    // Used yesterday: kept (a 72 h minimum age), and its blobs.
    age(usedKey(f), days(1));
    const kept = await gc(store, { minAgeHours: 72, apply: true });
    assert.deepEqual(kept.stages.removed, []);
    assert.equal(await verifyStage(store, (await readManifest(store, f))!), undefined);
    assert.equal(await store.stat(usedKey(stray)), undefined, "a mark of no stage, four days old, goes");
    // The control: its last use four days ago too, it goes.
    age(usedKey(f), days(4));
    const gone = await gc(store, { minAgeHours: 72, apply: true });
    assert.deepEqual(gone.stages.removed, [`stages/${f}/manifest.json`]);
    assert.equal(await store.stat(String(built.key)), undefined);
});

test("a pending set of references (a plan's, ahead of its stack) keeps its stages until its time; the stack's own set supersedes it and is never made pending", async () => {
    const dir = path.join(work, "pending-store");
    const store = new LocalStore(`file://${dir}`, dir);
    const f = fp("pending");
    const build = path.join(work, "build-pending");
    await runStage({ store, cache: new LocalStore("cache", path.join(work, "pending-cache")), fingerprint: f, stage: "pending", dir: build, command: buildCommand(build, path.join(work, "count-pending")), log: () => undefined });
    const owner = "gold-images.1.5.0";
    const written = new Date(Date.now() - 3600_000);
    const pending = await writeRefs(store, owner, [f], { pendingHours: 24, now: written });
    // Everything old (a 0 h minimum age): only references keep the stage.
    const later = (hours: number) => new Date(written.getTime() + hours * 3600_000);
    const kept = await gc(store, { minAgeHours: 0, apply: true, now: later(23) });
    assert.deepEqual(kept.stages.removed, [], "within its time, the pending set keeps the stage");
    assert.ok(await store.stat(pending));
    // The stack's own set of the same stages: permanent; a later plan of the same set leaves it so.
    assert.equal(await writeRefs(store, owner, [f]), pending, "the same set, the same key");
    assert.equal(JSON.parse((await store.readText(pending))!).pendingUntil, undefined);
    await writeRefs(store, owner, [f], { pendingHours: 24, now: written });
    assert.equal(JSON.parse((await store.readText(pending))!).pendingUntil, undefined, "a plan does not make the stack's set pending");
    assert.deepEqual((await gc(store, { minAgeHours: 0, apply: false, now: later(48) })).stages.removed, [], "the stack's set keeps it for good");
    // A plan of another set, then the stack's own: the pending one goes.
    const other = fp("other set");
    const next = await writeRefs(store, owner, [f, other], { pendingHours: 24, now: written });
    assert.ok(await store.stat(next));
    await writeRefs(store, owner, [f]);
    assert.equal(await store.stat(next), undefined, "superseded by the stack's own set");
    // Control: a pending set alone, past its time, keeps nothing, and goes with the rest.
    await store.remove(pending);
    const lone = await writeRefs(store, owner, [f], { pendingHours: 24, now: written });
    const expired = await gc(store, { minAgeHours: 0, apply: true, now: later(25) });
    assert.deepEqual(expired.expiredRefs, [lone]);
    assert.deepEqual(expired.stages.removed, [`stages/${f}/manifest.json`]);
    assert.equal(await store.stat(lone), undefined);
});

test("the GCS adapter's requests: resumable upload, metadata, media, list, delete (a fake server: see the README)", () => {
    const kinds = new Set(
        gcs.requests.map((r) => {
            const [request, query = ""] = r.split("?");
            const kind = query.includes("uploadType=resumable") ? "?resumable" : query.includes("alt=media") ? "?media" : query.includes("uploadType=multipart") ? "?multipart" : "";
            return request.replace(/\/o\/.+$/, "/o/NAME") + kind;
        }),
    );
    for (const expected of ["POST /upload/storage/v1/b/gold-store/o?resumable", "PUT /upload/storage/v1/b/gold-store/o?resumable", "GET /storage/v1/b/gold-store/o/NAME", "GET /storage/v1/b/gold-store/o/NAME?media", "GET /storage/v1/b/gold-store/o", "DELETE /storage/v1/b/gold-store/o/NAME"]) {
        assert.ok(kinds.has(expected), `${expected} in ${[...kinds].join(", ")}`);
    }
    assert.ok([...gcs.objects.keys()].every((k) => k.startsWith("team/") || k.startsWith("exports/")), "every object under the store's prefix");
});
