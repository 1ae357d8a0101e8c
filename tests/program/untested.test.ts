// config firstBoot "skip-unsafe": images published without their first-boot test, each marked
// gold-untested in its cloud's own way, and the images output says so. The same stack with the
// test on (the default) marks nothing: the control of every assertion below.
import assert from "node:assert/strict";
import { test } from "node:test";
import { byType, installMocks, settled, valueOf } from "../support/program";
import { providerNames } from "../../components/providers";

const firstBoot = process.env.GOLD_TEST_FIRST_BOOT ?? "skip-unsafe";
installMocks("1.4.0", {
    oses: ["Rocky-9.8"],
    providers: providerNames(),
    publish: true,
    firstBoot,
    aws: { region: "eu-west-1", bucket: "gold-images-import", copyRegions: ["us-east-1"] },
    azure: { resourceGroup: "images", location: "westeurope", storageAccount: "goldimages", gallery: "gold" },
    gcp: { project: "gold-images-1", bucket: "gold-images-upload" },
    docker: { repository: "gold/base" },
});
// eslint-disable-next-line @typescript-eslint/no-var-requires
const program = require("../../index");

/** Where each published resource carries the mark, read from what was registered. */
function marks(): Record<string, boolean> {
    const tagged = (type: string, field: string) => {
        const found = byType(type);
        assert.ok(found.length > 0, type);
        return found.every((r) => r.inputs[field]?.["gold-untested"] === "true");
    };
    const command = (suffix: string) => byType("command:local:Command").filter((c) => c.name.endsWith(suffix));
    return {
        "AWS snapshot tags": tagged("aws:ebs/snapshotImport:SnapshotImport", "tags"),
        "AWS AMI tags": tagged("aws:ec2/ami:Ami", "tags"),
        "AWS copy tags": tagged("aws:ec2/amiCopy:AmiCopy", "tags"),
        "Azure image tags": tagged("azure-native:compute:Image", "tags"),
        "Azure gallery definition tags": tagged("azure-native:compute:GalleryImage", "tags"),
        "Azure gallery version tags": tagged("azure-native:compute:GalleryImageVersion", "tags"),
        "GCP image labels": tagged("gcp:compute/image:Image", "labels"),
        "Glance image tags": command("-publish-glance").every((c) => JSON.parse(/--request '([^']*)'/.exec(c.inputs.create)![1]).tags.includes("gold-untested")),
        "Docker image label": command("-publish-image").every((c) => / --label gold-untested=true /.test(c.inputs.create)),
        "Vagrant box and OVA beside-file": [...command("-publish-box"), ...command("-publish-ova")].every((c) => /\.gold-untested'?$/.test(c.inputs.create)),
    };
}

test(`firstBoot ${firstBoot} with publish: ${firstBoot === "skip-unsafe" ? "every published image is marked, and the images output says so" : "no image is marked"}`, async () => {
    const images = (await valueOf(program.images)) as Record<string, Record<string, { firstBoot: unknown }>>;
    await settled();
    const untested = firstBoot === "skip-unsafe";
    assert.equal(byType("gold:test:FirstBoot").length, untested ? 0 : 7);
    assert.equal(command_count(), 7 * 2 + (untested ? 0 : 7) + 1);
    for (const [where, marked] of Object.entries(marks())) assert.equal(marked, untested, `${where}: ${untested ? "marked" : "not marked"}`);
    for (const [provider, image] of Object.entries(images["Rocky-9.8"])) {
        if (untested) assert.equal(image.firstBoot, "skipped-unsafe", provider);
        else assert.notEqual(image.firstBoot, "skipped-unsafe", provider);
    }
});

/** Stage commands: a variant and a conversion per provider, a test each when on, the base. */
function command_count(): number {
    return byType("command:local:Command").filter((c) => c.name.endsWith("-run") && !c.name.startsWith("store-")).length;
}

test("the control: the same stack with the test on marks nothing", { skip: firstBoot !== "skip-unsafe" && "this is the control run" }, async () => {
    const { spawnSync } = await import("node:child_process");
    // Its own test run (not a child of this one's runner, which would take its report).
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const r = spawnSync(process.execPath, ["--require", "ts-node/register", "--test", __filename], {
        env: { ...env, TS_NODE_TRANSPILE_ONLY: "true", GOLD_TEST_FIRST_BOOT: "true" },
        encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stdout.slice(-3000));
    assert.match(r.stdout, /# pass 1\b/);
});
