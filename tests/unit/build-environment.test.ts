// A stage's build (Packer, Ansible, QEMU, a conversion, a first-boot test) runs without the
// store's and the clouds' credentials: the store CLI that starts it alone holds them.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, generateKeyPairSync } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, test } from "node:test";
import { openStore } from "../../components/store";
import { LocalStore } from "../../components/store/object-store";
import { buildEnvironment, runStage } from "../../components/store/run-stage";
import { tempDir } from "../support/tools";

const work = tempDir("build-env");
after(() => fs.rmSync(work, { recursive: true, force: true }));

// What a CI job's environment holds while the store CLI runs (fake values).
const SECRETS: Record<string, string> = {
    AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "secret-example",
    AWS_SESSION_TOKEN: "token-example",
    AWS_WEB_IDENTITY_TOKEN_FILE: "/tmp/token",
    AZURE_STORAGE_CONNECTION_STRING: "DefaultEndpointsProtocol=https;AccountKey=x",
    AZURE_STORAGE_KEY: "azure-key",
    ARM_CLIENT_SECRET: "arm-secret",
    GOOGLE_APPLICATION_CREDENTIALS: "/tmp/gcp.json",
    CLOUDSDK_AUTH_ACCESS_TOKEN: "gcloud-token",
    OS_PASSWORD: "openstack-password",
    OS_CLOUD: "prod",
    PULUMI_CONFIG_PASSPHRASE: "passphrase",
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: "oidc-request-token",
    ACTIONS_ID_TOKEN_REQUEST_URL: "https://token.actions.example",
    GITHUB_TOKEN: "ghs_example",
    // A real key: the store CLI signs the manifest with it.
    GOLD_STORE_SIGNING_KEY: generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    GOLD_TARGET_AZURE_STORAGE_KEY: "target-key",
};
// What a build needs and keeps.
const KEPT: Record<string, string> = { GOLD_PARALLEL_BUILDS: "2", http_proxy: "http://proxy.example:3128", LIBGUESTFS_BACKEND: "direct", OS_TYPE_HINT: "linux" };

test("a stage's build runs without the store's, the clouds', the CI's or the signing credentials", async () => {
    const store = openStore(path.join(work, "store"));
    const cache = new LocalStore("cache", path.join(work, "cache"));
    const fingerprint = createHash("sha256").update("build environment").digest("hex");
    const dir = path.join(work, "build");
    // The build writes its environment as its artifact.
    const command = `mkdir -p ${dir} && env -0 > ${dir}/env.bin && printf '{"artifact": "%s", "sha256": "%s", "bytes": %s}' ${dir}/env.bin "$(sha256sum < ${dir}/env.bin | cut -d' ' -f1)" "$(stat -c %s ${dir}/env.bin)"`;
    const saved = { ...process.env };
    Object.assign(process.env, SECRETS, KEPT);
    let seen: Record<string, string>;
    try {
        const result = await runStage({ store, cache, fingerprint, stage: "t-env", dir, command, log: () => undefined });
        seen = Object.fromEntries(fs.readFileSync(String(result.artifact), "utf8").split("\0").filter(Boolean).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
        // Control: the same command with this process's environment as is would see every one of them.
        const plain = execFileSync("/bin/bash", ["-c", "env -0"], { env: process.env }).toString().split("\0");
        for (const k of Object.keys(SECRETS)) assert.ok(plain.some((l) => l.startsWith(`${k}=`)), `control: ${k} reaches a plain child`);
    } finally {
        for (const k of [...Object.keys(SECRETS), ...Object.keys(KEPT)]) delete process.env[k];
        Object.assign(process.env, saved);
    }
    assert.deepEqual(Object.keys(SECRETS).filter((k) => k in seen), [], "no credential reached the build");
    for (const [k, v] of Object.entries(KEPT)) assert.equal(seen[k], v, `${k} reached the build`);
    assert.ok(seen.PATH, "PATH reached the build");
});

test("buildEnvironment: the stage's own variables win, credentials never pass", () => {
    const env = buildEnvironment({ PATH: "/bin", AWS_SECRET_ACCESS_KEY: "x", GOLD_INPUT: "old" }, { GOLD_INPUT: "/in.qcow2" });
    assert.deepEqual(env, { PATH: "/bin", GOLD_INPUT: "/in.qcow2" });
});
