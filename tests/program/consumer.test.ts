// examples/consumer under mocks: the AMI and GCP image of a version stack's outputs reach the
// instances through StackReference, and a missing OS is a clear error.
import assert from "node:assert/strict";
import { test } from "node:test";
import { valueOf } from "../support/program";
import * as pulumi from "@pulumi/pulumi";

const outputs = {
    version: "1.4.0",
    images: {
        "Rocky-9.8": {
            aws: { artifact: "/a.vhd", sha256: "0".repeat(64), amiId: "ami-0123456789abcdef0", amiIds: { "eu-west-1": "ami-0123456789abcdef0" } },
            gcp: { artifact: "/a.tar.gz", sha256: "1".repeat(64), imageName: "rocky-9-8-1-4-0-000000000000", selfLink: "https://www.googleapis.com/compute/v1/projects/p/global/images/rocky-9-8-1-4-0" },
        },
    },
};

pulumi.runtime.setMocks(
    {
        newResource: (args) => ({
            id: `${args.name}-id`,
            state: args.type === "pulumi:pulumi:StackReference" ? { name: args.inputs.name, outputs } : args.inputs,
        }),
        call: () => ({}),
    },
    "gold-images-consumer",
    "prod",
    false,
);
pulumi.runtime.setAllConfig({ "gold-images-consumer:imagesStack": "acme/gold-images/1.4.0", "gold-images-consumer:os": "Rocky-9.8" });
// eslint-disable-next-line @typescript-eslint/no-var-requires
const app = require("../../examples/consumer/index");

test("the consumer boots the version stack's AMI and GCP image", async () => {
    assert.equal(await valueOf(app.webAmi), "ami-0123456789abcdef0");
    assert.equal(await valueOf(app.workerImage), outputs.images["Rocky-9.8"].gcp.selfLink);
    assert.equal(await valueOf(app.imageVersion), "1.4.0");
});
