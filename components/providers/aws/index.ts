// Amazon Web Services: a dynamic VHD imported as an EBS snapshot and registered as an AMI.
import { choice, flag, list, text } from "../../recipe/fields";
import { publishInputs } from "../../publish/names";
import { BIOS, Settings, defineProvider } from "../provider";
import { firstBoot } from "./first-boot";
import { imageTitle } from "../../publish/names";
import { AwsImage } from "./image";
import { BOOT_MODES } from "./boot";
import { uefiWithTpm } from "../firmware";

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

const fields = {
    region: text(REGION, "an AWS region such as eu-west-1").optional(),
    bucket: text(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an S3 bucket name").optional(),
    /** The VM Import service role, made once per account (examples/aws-vmimport-role). */
    roleName: text(/^[A-Za-z0-9+=,.@_-]{1,64}$/, "an IAM role name", 64).default("vmimport"),
    createRole: flag()
        .refine((v) => !v, { error: "false: the vmimport role is the account's, not a version's: create it once with the stack in examples/aws-vmimport-role" })
        .optional(),
    copyRegions: list(REGION, "a list of AWS regions").default([]),
    shareWithAccounts: list(/^\d{12}$/, "a list of 12-digit AWS account ids").default([]),
    /** The AMI's boot mode; unset: per OS, uefi-preferred for a hybrid disk, uefi or legacy-bios for a disk of one firmware. */
    bootMode: choice(BOOT_MODES.choices).optional(),
};

/** Config `aws`, checked. */
export type AwsSettings = Settings<typeof fields>;

export default defineProvider({
    name: "aws",
    title: "Amazon Web Services",
    fields,
    requiredToPublish: ["region", "bucket"],
    check: (s, ctx) => {
        for (const os of ctx.oses) {
            BOOT_MODES.of(s.bootMode, os);
            // AMI names: at most 128 characters, the sha256 suffix included.
            const name = imageTitle(os.vm_name, ctx.version, "0".repeat(64));
            if (name.length > 128) throw new Error(`config version: '${ctx.version}' is too long: the AMI name ${name} has ${name.length} characters, at most 128`);
        }
    },
    isoBuilder: "virtualbox-iso",
    format: "vhd",
    firstBoot,
    // A UEFI AMI boots UEFI with a NitroTPM (its tpmSupport), under Secure Boot where the OS's shim
    // is signed: EC2 enforces it for an AMI registered with the keys (uefiData), the ones its test booted with.
    boot: (s, os) => (BOOT_MODES.of(s.bootMode, os) === "legacy-bios" ? BIOS : uefiWithTpm(os)),
    outputs: ["amiId", "amiIds", "region"],
    publish: (a) => {
        const img = new AwsImage(a.name, { ...publishInputs(a), os: a.os, settings: a.settings, boot: a.boot });
        return { amiId: img.amiId, amiIds: img.amiIds, region: a.settings.region };
    },
});
