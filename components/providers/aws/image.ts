import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PublishInputs, imageName, marks } from "../../publish/names";
import { exportArtifact, storedObject } from "../../publish/store-object";
import type { BootMode } from "../../firstboot/mechanism";
import { OsVars, hasDriver } from "../../recipe/os";
import type { AwsSettings } from ".";
import { BOOT_MODES } from "./boot";
import { uefiData } from "./uefi-data";
import type { UefiVariable } from "../../firstboot/uefi-vars";

/** The key of the VHD in the bucket: the store's object (same bucket), or a copy's. */
function s3Key(name: string, args: AwsImageArgs, bucket: string, region: string, title: pulumi.Output<string>, parent: pulumi.Resource): pulumi.Output<string> {
    // (An S3-compatible server's bucket of the same name is not AWS's: it is copied.)
    if (args.store.kind === "s3" && !args.store.endpoint && args.store.bucket === bucket) {
        return storedObject(args).apply((l) => (l as { object: string }).object);
    }
    const key = pulumi.interpolate`${args.vmName}/${args.version}/${title}.vhd`;
    const copied = exportArtifact(`${name}-vhd-copy`, args, { to: pulumi.interpolate`s3://${bucket}/${key}?region=${region}` }, parent);
    return pulumi.all([copied, key]).apply(([, k]) => k);
}

/** The AMI's UefiData from its test's result; a tested Secure Boot image without keys would start in Setup Mode: refused. */
function secureBootData(keys: unknown, args: AwsImageArgs): string | undefined {
    if (Array.isArray(keys)) return uefiData(keys as UefiVariable[]);
    if (args.untested) return undefined;
    throw new Error(`${args.vmName} aws: its first-boot result has no secureBootKeys, so the AMI would start in Setup Mode (Secure Boot off) while its boot says Secure Boot: run its test again (pulumi up --replace the ${args.vmName}-aws-test stage)`);
}

export interface AwsImageArgs extends PublishInputs {
    /** The OS: the firmware its disk boots, whether its kernel has ENA and its cloud-init speaks IMDSv2. */
    readonly os: OsVars;
    /** Region, bucket, role, copies and sharing (config `aws`); the bucket may be the store's. */
    readonly settings: AwsSettings;
    /** How EC2 boots it (the provider's `boot`): NitroTPM where it has a TPM, the Secure Boot keys where Secure Boot is on. */
    readonly boot: BootMode;
}

/**
 * An AMI from a VHD: S3 upload → EBS snapshot import (VM Import, with the account's vmimport
 * role: examples/aws-vmimport-role) → AMI (hvm, gp3; its boot mode, NitroTPM with UEFI, the
 * tested Secure Boot keys; ENA
 * and IMDSv2-only where the OS has them) → copies per extra region → launch permissions per account.
 */
export class AwsImage extends pulumi.ComponentResource {
    public readonly amiId: pulumi.Output<string>;
    /** AMI id per region, the home region included. */
    public readonly amiIds: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: AwsImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gold:publish:AwsImage", name, {}, opts);
        const s = args.settings;
        const region = s.region!;
        const bucket = s.bucket!;
        const title = imageName(args.vmName, args.version, args.sha256);
        const tags = { "gold:os": args.vmName, "gold:version": args.version, ...marks(args) };
        const bootMode = BOOT_MODES.of(s.bootMode, args.os);

        // The VHD in S3 for VM Import: the store's own object when the store is this bucket,
        // else a copy made by a command keyed by its sha256 (the engine never reads the file).
        const key = s3Key(name, args, bucket, region, title, this);

        const snapshot = new aws.ebs.SnapshotImport(
            `${name}-snapshot`,
            {
                region,
                description: title,
                roleName: s.roleName,
                diskContainer: { format: "VHD", userBucket: { s3Bucket: bucket, s3Key: key } },
                tags: { ...tags, Name: title },
            },
            // An import takes 15-60 minutes, more for large disks.
            { parent: this, customTimeouts: { create: "4h", delete: "30m" } },
        );

        const ami = new aws.ec2.Ami(
            `${name}-ami`,
            {
                region,
                name: title,
                description: `${args.vmName} ${args.version} (gold standard image)`,
                // The defaults (paravirtual, standard volumes) do not boot modern instance types.
                virtualizationType: "hvm",
                architecture: "x86_64",
                rootDeviceName: "/dev/xvda",
                ebsBlockDevices: [{ deviceName: "/dev/xvda", snapshotId: snapshot.id, volumeType: "gp3", deleteOnTermination: true }],
                // Per OS: an AMI marked ENA needs the driver (EL7.2/7.3 kernels have none), and an
                // IMDSv2-only AMI needs a cloud-init that asks for tokens (CentOS 7's does not).
                enaSupport: hasDriver(args.os, "ena"),
                imdsSupport: args.os.imds_v2 ? "v2.0" : undefined,
                bootMode,
                // NitroTPM needs a UEFI boot mode; the Nitro types that have it boot uefi-preferred AMIs with UEFI.
                tpmSupport: args.boot.tpm ? "v2.0" : undefined,
                // Without keys EC2 starts an instance in Setup Mode, Secure Boot off: the AMI carries
                // the ones its first-boot test's NVRAM started with (none for an untested image).
                uefiData: args.boot.secureBoot ? args.stage.result.apply((r) => secureBootData(r.secureBootKeys, args)) : undefined,
                tags: { ...tags, Name: title },
            },
            { parent: this, customTimeouts: { create: "1h" } },
        );

        const ids: Record<string, pulumi.Output<string>> = { [region]: ami.id };
        for (const target of s.copyRegions.filter((r) => r !== region)) {
            const copy = new aws.ec2.AmiCopy(
                `${name}-copy-${target}`,
                { region: target, name: title, sourceAmiId: ami.id, sourceAmiRegion: region, tags: { ...tags, Name: title } },
                { parent: this, customTimeouts: { create: "2h" } },
            );
            ids[target] = copy.id;
        }
        for (const [r, id] of Object.entries(ids)) {
            for (const account of s.shareWithAccounts) {
                new aws.ec2.AmiLaunchPermission(`${name}-share-${r}-${account}`, { region: r, imageId: id, accountId: account }, { parent: this });
            }
        }

        this.amiId = ami.id;
        this.amiIds = pulumi.all(ids);
        this.registerOutputs({ amiId: this.amiId, amiIds: this.amiIds });
    }
}
