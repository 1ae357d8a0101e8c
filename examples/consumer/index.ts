// An application team's stack: it takes the AMI and the GCP image of one OS from an image
// version stack, so moving to a new image version is a one-line config change.
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

/** The shape of the version stack's `images` output (see the README of gold-images). */
interface Images {
    [os: string]: {
        aws?: { amiId: string; amiIds: Record<string, string> };
        gcp?: { imageName: string; selfLink: string };
    };
}

const config = new pulumi.Config();
const os = config.get("os") ?? "Rocky-9.8";
const gold = new pulumi.StackReference(config.require("imagesStack"));
const images = gold.requireOutput("images") as pulumi.Output<Images>;

const pick = <T>(what: string, get: (i: Images[string]) => T | undefined) =>
    images.apply((all) => {
        const value = all[os] && get(all[os]);
        if (value === undefined) throw new Error(`${config.require("imagesStack")} has no ${what} for ${os}; it has: ${Object.keys(all).join(", ")}`);
        return value;
    });

const web = new aws.ec2.Instance("web", {
    ami: pick("AMI", (i) => i.aws?.amiId),
    instanceType: "t3.micro",
    metadataOptions: { httpTokens: "required" },
    tags: { Name: `web-${os}` },
});

const worker = new gcp.compute.Instance("worker", {
    machineType: "e2-small",
    zone: "europe-west1-b",
    bootDisk: { initializeParams: { image: pick("GCP image", (i) => i.gcp?.selfLink) } },
    networkInterfaces: [{ network: "default" }],
});

export const imageVersion = gold.requireOutput("version");
export const webAmi = web.ami;
export const workerImage = worker.bootDisk.initializeParams.image;
