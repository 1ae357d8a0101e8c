// Amazon Web Services: a dynamic VHD imported as an EBS snapshot and registered as an AMI.
import { choice, flag, list, text } from "../../recipe/fields";
import { publishInputs } from "../../publish/names";
import { Settings, defineProvider } from "../provider";
import { AwsImage } from "./image";

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

const fields = {
    region: text(REGION, "an AWS region such as eu-west-1").optional(),
    bucket: text(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an S3 bucket name").optional(),
    roleName: text(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "an IAM role name", 64).default("vmimport"),
    createRole: flag().default(false),
    copyRegions: list(REGION, "a list of AWS regions").default([]),
    shareWithAccounts: list(/^\d{12}$/, "a list of 12-digit AWS account ids").default([]),
    bootMode: choice(["legacy-bios", "uefi", "uefi-preference"]).default("legacy-bios"),
};

/** Config `aws`, checked. */
export type AwsSettings = Settings<typeof fields>;

export default defineProvider({
    name: "aws",
    title: "Amazon Web Services",
    fields,
    requiredToPublish: ["region", "bucket"],
    isoBuilder: "virtualbox-iso",
    format: "vhd",
    outputs: ["amiId", "amiIds", "region"],
    publish: (a) => {
        const img = new AwsImage(a.name, { ...publishInputs(a), settings: a.settings });
        return { amiId: img.amiId, amiIds: img.amiIds, region: a.settings.region };
    },
});
