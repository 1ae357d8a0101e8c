import * as azure from "@pulumi/azure-native";
import * as pulumi from "@pulumi/pulumi";
import { PublishInputs, imageName, marks } from "../../publish/names";
import { exportArtifact, storedObject } from "../../publish/store-object";
import type { AzureSettings } from ".";

export interface AzureImageArgs extends PublishInputs {
    /** Resource group, location, storage account, container, gallery (config `azure`). */
    readonly settings: AzureSettings;
}

/**
 * A managed image from a fixed VHD in a page blob (the store's, when the store is this storage
 * account; else a copy), then compute.Image, and a Compute Gallery image version when a gallery
 * is configured.
 */
export class AzureImage extends pulumi.ComponentResource {
    public readonly imageId: pulumi.Output<string>;
    public readonly blobUrl: pulumi.Output<string>;
    public readonly galleryImageVersionId?: pulumi.Output<string>;

    constructor(name: string, args: AzureImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gold:publish:AzureImage", name, {}, opts);
        const s = args.settings;
        const title = imageName(args.vmName, args.version, args.sha256);
        const account = s.storageAccount!;
        const blobUrl = (container: string, blob: string) => `https://${account}.blob.core.windows.net/${container}/${blob}`;
        if (args.store.kind === "azblob" && args.store.account === account) {
            // The store is this account: its fixed VHD went up as a page blob, Azure imports it from there.
            this.blobUrl = storedObject(args).apply((l) => {
                const o = l as { container: string; object: string };
                return blobUrl(o.container, o.object);
            });
        } else {
            // A page blob in the account, only its non-zero ranges sent (the azure-native Blob
            // resource makes no page blobs and would read the whole file), keyed by its sha256.
            const keys = azure.storage.listStorageAccountKeysOutput({ resourceGroupName: s.resourceGroup!, accountName: account }, { parent: this });
            const blob = pulumi.interpolate`${title}.vhd`;
            const copied = exportArtifact(
                `${name}-page-blob`,
                args,
                {
                    to: pulumi.interpolate`azblob://${account}/${s.container}/${blob}`,
                    pageBlob: true,
                    // The target account's own credentials; the store's (AZURE_STORAGE_*) may be another account's.
                    environment: { GOLD_TARGET_AZURE_STORAGE_ACCOUNT: account, GOLD_TARGET_AZURE_STORAGE_KEY: pulumi.secret(keys.keys[0].value) },
                },
                this,
            );
            this.blobUrl = pulumi.all([copied, blob]).apply(([, b]) => blobUrl(s.container, b));
        }

        const image = new azure.compute.Image(
            `${name}-image`,
            {
                resourceGroupName: s.resourceGroup!,
                location: s.location,
                imageName: title,
                hyperVGeneration: s.hyperVGeneration,
                storageProfile: {
                    osDisk: { osType: "Linux", osState: "Generalized", blobUri: this.blobUrl, caching: "ReadWrite", storageAccountType: "Standard_LRS" },
                },
                tags: { "gold-os": args.vmName, "gold-version": args.version, ...marks(args) },
            },
            { parent: this, customTimeouts: { create: "1h" } },
        );
        this.imageId = image.id;

        if (s.gallery) {
            // The image definition (one per OS, shared by every version) is made once, outside
            // the version stacks (README): destroying a version must not remove it.
            // Its name is the version's, its source the image's: a rebuilt image of the same version
            // (a changed recipe) cannot be a new source of the same version in Azure, so the old
            // version is deleted first and made again from the new image.
            const version = new azure.compute.GalleryImageVersion(
                `${name}-gallery-version`,
                {
                    resourceGroupName: s.resourceGroup!,
                    galleryName: s.gallery,
                    galleryImageName: args.vmName,
                    galleryImageVersionName: args.version,
                    location: s.location,
                    storageProfile: { source: { id: image.id } },
                    publishingProfile: { targetRegions: [{ name: s.location!, regionalReplicaCount: 1 }] },
                },
                { parent: this, customTimeouts: { create: "2h" }, deleteBeforeReplace: true, replaceOnChanges: ["storageProfile"] },
            );
            this.galleryImageVersionId = version.id;
        }
        this.registerOutputs({ imageId: this.imageId, blobUrl: this.blobUrl, galleryImageVersionId: this.galleryImageVersionId });
    }
}
