// The VM Import service role of one AWS account (https://docs.aws.amazon.com/vm-import/latest/userguide/required-permissions.html):
// VM Import assumes it to read the version stacks' buckets and register their snapshots. It is
// the account's, shared by every image version, so it lives in this small stack of its own:
//   cd examples/aws-vmimport-role && pulumi stack init acme-prod
//   pulumi config set --path 'buckets[0]' gold-images-import && pulumi up
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config();
const buckets = config.requireObject<string[]>("buckets");
if (!Array.isArray(buckets) || buckets.length === 0 || !buckets.every((b) => typeof b === "string" && /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b))) {
    throw new Error(`config buckets: ${JSON.stringify(buckets)} is not valid; it must be a list of S3 bucket names`);
}
const roleName = config.get("roleName") ?? "vmimport";

// aws, aws-us-gov or aws-cn: ARNs of the account's own partition.
const partition = aws.getPartitionOutput().partition;

const role = new aws.iam.Role("vmimport", {
    name: roleName,
    assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Service: "vmie.amazonaws.com" },
                Action: "sts:AssumeRole",
                Condition: { StringEquals: { "sts:Externalid": "vmimport" } },
            },
        ],
    }),
});

new aws.iam.RolePolicy("vmimport", {
    role: role.name,
    policy: partition.apply((p) =>
        JSON.stringify({
            Version: "2012-10-17",
            Statement: [
                {
                    Effect: "Allow",
                    Action: ["s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket"],
                    Resource: buckets.flatMap((b) => [`arn:${p}:s3:::${b}`, `arn:${p}:s3:::${b}/*`]),
                },
                { Effect: "Allow", Action: ["ec2:ModifySnapshotAttribute", "ec2:CopySnapshot", "ec2:RegisterImage", "ec2:Describe*"], Resource: "*" },
            ],
        }),
    ),
});

export const vmimportRole = role.name;
