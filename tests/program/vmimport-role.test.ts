// examples/aws-vmimport-role under mocks: the account's VM Import role, trusted by
// vmie.amazonaws.com, reading the version stacks' buckets with ARNs of the account's partition.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { valueOf } from "../support/program";

const registered: { type: string; inputs: Record<string, any> }[] = [];
pulumi.runtime.setMocks(
    {
        newResource: (args) => {
            registered.push({ type: args.type, inputs: args.inputs });
            return { id: `${args.name}-id`, state: args.inputs };
        },
        // A GovCloud account: the policy must not say arn:aws:.
        call: (args) => (args.token === "aws:index/getPartition:getPartition" ? { partition: "aws-us-gov", dnsSuffix: "amazonaws.com", id: "aws-us-gov" } : {}),
    },
    "gold-images-aws-vmimport",
    "acme-gov",
    false,
);
pulumi.runtime.setAllConfig({ "gold-images-aws-vmimport:buckets": JSON.stringify(["gold-import-a", "gold-import-b"]) });
// eslint-disable-next-line @typescript-eslint/no-var-requires
const stack = require("../../examples/aws-vmimport-role/index");

test("one vmimport role per account, trusted by VM Import, reading every bucket in the account's partition", async () => {
    assert.equal(await valueOf(stack.vmimportRole), "vmimport");
    for (let i = 0; i < 50 && !registered.some((r) => r.type === "aws:iam/rolePolicy:RolePolicy"); i++) await new Promise((r) => setTimeout(r, 100));
    const role = registered.find((r) => r.type === "aws:iam/role:Role")!;
    assert.match(role.inputs.assumeRolePolicy, /vmie\.amazonaws\.com/);
    const policy = registered.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy")!;
    const doc = JSON.parse(await valueOf(policy.inputs.policy));
    assert.deepEqual(doc.Statement[0].Resource, [
        "arn:aws-us-gov:s3:::gold-import-a",
        "arn:aws-us-gov:s3:::gold-import-a/*",
        "arn:aws-us-gov:s3:::gold-import-b",
        "arn:aws-us-gov:s3:::gold-import-b/*",
    ]);
    assert.equal(registered.filter((r) => r.type === "aws:iam/role:Role").length, 1);
});
