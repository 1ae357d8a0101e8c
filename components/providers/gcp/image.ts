import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { PublishInputs, imageName, marks } from "../../publish/names";
import { exportArtifact, storedObject } from "../../publish/store-object";
import type { OsVars } from "../../recipe/os";
import type { GcpSettings } from ".";
import { guestOsFeatures } from "./features";

/**
 * A GCP resource name: [a-z]([-a-z0-9]*[a-z0-9])?, at most 63 characters. The config checks
 * (./index.ts) make sure an image name fits whole, so its sha256 suffix is never cut.
 */
export function gcpName(name: string): string {
    return name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^[^a-z]+/, "").replace(/-+$/, "");
}

/** A GCP label value: lowercase letters, digits, '_' and '-', at most 63 (digits may lead). */
export function gcpLabel(value: string): string {
    return value.toLowerCase().replace(/[^a-z0-9_-]+/g, "-").slice(0, 63);
}

export interface GcpImageArgs extends PublishInputs {
    /** The OS: its firmware and drivers are the image's guest OS features. */
    readonly os: OsVars;
    /** Project, bucket, family, extra guest OS features (config `gcp`). */
    readonly settings: GcpSettings;
}

/** A Compute Engine image from disk.raw in a tar.gz: an object in the bucket → compute.Image. */
export class GcpImage extends pulumi.ComponentResource {
    public readonly imageName: pulumi.Output<string>;
    public readonly selfLink: pulumi.Output<string>;

    constructor(name: string, args: GcpImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gold:publish:GcpImage", name, {}, opts);
        const s = args.settings;
        const title = imageName(args.vmName, args.version, args.sha256).apply(gcpName);
        // The tar.gz in GCS: the store's own object when the store is this bucket, else a copy
        // made by a command keyed by its sha256 (the engine never reads the file).
        const sameBucket = args.store.kind === "gs" && !args.store.endpoint && args.store.bucket === s.bucket;
        const objectName = sameBucket
            ? storedObject(args).apply((l) => (l as { object: string }).object)
            : pulumi
                  .all([exportArtifact(`${name}-tarball-copy`, args, { to: pulumi.interpolate`gs://${s.bucket!}/${args.vmName}/${args.version}/${title}.tar.gz` }, this), title])
                  .apply(([, t]) => `${args.vmName}/${args.version}/${t}.tar.gz`);
        const image = new gcp.compute.Image(
            `${name}-image`,
            {
                project: s.project,
                name: title,
                family: s.family,
                description: `${args.vmName} ${args.version} (gold standard image)`,
                // Compute Engine takes the https form of the object, not gs://.
                rawDisk: { source: pulumi.interpolate`https://storage.googleapis.com/${s.bucket!}/${objectName}` },
                guestOsFeatures: guestOsFeatures(s.guestOsFeatures, args.os).map((type) => ({ type })),
                labels: { "gold-os": gcpLabel(args.vmName), "gold-version": gcpLabel(args.version), ...marks(args) },
            },
            { parent: this, customTimeouts: { create: "1h" } },
        );
        this.imageName = image.name;
        this.selfLink = image.selfLink;
        this.registerOutputs({ imageName: this.imageName, selfLink: this.selfLink });
    }
}
