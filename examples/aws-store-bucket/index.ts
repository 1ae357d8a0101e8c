// The S3 bucket of a shared artifact store (https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpu-abort-incomplete-mpu-lifecycle-config.html).
// A stage killed mid-upload leaves the parts of its multipart upload behind: invisible to
// listings (and so to `store.ts gc`) and billed until someone aborts the upload. The bucket's
// lifecycle rule aborts them after a day; a stage's upload takes minutes to hours, never days.
// The bucket outlives every image version, so it lives in this small stack of its own:
//   cd examples/aws-store-bucket && pulumi stack init acme-store
//   pulumi config set bucket acme-gold-store && pulumi up
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config();
const name = config.require("bucket");
if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) throw new Error(`config bucket: '${name}' is not an S3 bucket name (3-63 lowercase letters, digits, '.' and '-')`);
const days = config.getNumber("abortIncompleteMultipartDays") ?? 1;
if (!Number.isInteger(days) || days < 1 || days > 365) throw new Error(`config abortIncompleteMultipartDays: ${days} is not valid; it must be a whole number of days from 1 to 365`);

// Stages are immutable and named by content: no versioning, and never an accidental delete of the lot.
const bucket = new aws.s3.Bucket("store", { bucket: name }, { protect: true });

new aws.s3.BucketPublicAccessBlock("store", { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });

new aws.s3.BucketServerSideEncryptionConfiguration("store", {
    bucket: bucket.id,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
});

new aws.s3.BucketLifecycleConfiguration("store", {
    bucket: bucket.id,
    rules: [
        {
            id: "abort-incomplete-multipart-uploads",
            status: "Enabled",
            // Every object of the bucket: the store's prefix is the version stacks' choice.
            filter: {},
            abortIncompleteMultipartUpload: { daysAfterInitiation: days },
        },
    ],
});

export const artifactStore = pulumi.interpolate`s3://${bucket.bucket}`;
