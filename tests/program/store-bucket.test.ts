// examples/aws-store-bucket under mocks: the shared store's bucket, private and encrypted, with
// the lifecycle rule that aborts multipart uploads a killed stage never finished; a bad config
// value is refused naming it, before anything is registered.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { valueOf } from "../support/program";

const registered: { type: string; inputs: Record<string, any>; protect?: boolean }[] = [];
pulumi.runtime.setMocks(
    {
        newResource: (args) => {
            registered.push({ type: args.type, inputs: args.inputs });
            return { id: args.inputs.bucket ?? `${args.name}-id`, state: args.inputs };
        },
        call: () => ({}),
    },
    "gold-images-aws-store-bucket",
    "acme-store",
    false,
);
const PROJECT = "gold-images-aws-store-bucket";
const load = (config: Record<string, string>) => {
    pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [`${PROJECT}:${k}`, v])));
    const file = require.resolve("../../examples/aws-store-bucket/index");
    delete require.cache[file];
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require(file);
};

test("bad config: the key, the value and what is valid; nothing registered", () => {
    assert.throws(() => load({ bucket: "Acme_Store" }), /config bucket: 'Acme_Store' is not an S3 bucket name/);
    assert.throws(() => load({ bucket: "acme-store", abortIncompleteMultipartDays: "0" }), /config abortIncompleteMultipartDays: 0 is not valid; it must be a whole number of days from 1 to 365/);
    assert.equal(registered.length, 0);
});

test("the store's bucket: private, encrypted, incomplete multipart uploads aborted after a day", async () => {
    const stack = load({ bucket: "acme-gold-store" });
    assert.equal(await valueOf(stack.artifactStore), "s3://acme-gold-store");
    for (let i = 0; i < 50 && !registered.some((r) => r.type === "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"); i++) await new Promise((r) => setTimeout(r, 100));
    const of = (type: string) => registered.filter((r) => r.type === type);
    assert.equal(of("aws:s3/bucket:Bucket").length, 1);
    const [lifecycle] = of("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration");
    assert.equal(lifecycle.inputs.bucket, "acme-gold-store");
    assert.deepEqual(lifecycle.inputs.rules, [{ id: "abort-incomplete-multipart-uploads", status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } }]);
    const [block] = of("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
    assert.deepEqual([block.inputs.blockPublicAcls, block.inputs.blockPublicPolicy, block.inputs.ignorePublicAcls, block.inputs.restrictPublicBuckets], [true, true, true, true]);
    const [sse] = of("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
    assert.equal(sse.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "AES256");
});
