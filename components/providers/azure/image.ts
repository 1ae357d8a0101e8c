import * as azure from "@pulumi/azure-native";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PublishInputs, imageName } from "../../publish/names";
import { repoRoot } from "../../recipe/paths";
import { sh } from "../../shell";
import type { AzureSettings } from ".";

export interface AzureImageArgs extends PublishInputs {
    /** Resource group, location, storage account, container, gallery (config `azure`). */
    readonly settings: AzureSettings;
}

const UPLOADER = ["node_modules/.bin/ts-node", "--transpile-only", "components/providers/azure/upload-page-blob.ts"];

/**
 * A managed image from a fixed VHD: uploaded as a page blob (only its non-zero ranges; the
 * azure-native Blob resource can make no page blobs and reads whole files into memory), then
 * compute.Image, and a Compute Gallery image version when a gallery is configured.
 */
export class AzureImage extends pulumi.ComponentResource {
    public readonly imageId: pulumi.Output<string>;
    public readonly blobUrl: pulumi.Output<string>;
    public readonly galleryImageVersionId?: pulumi.Output<string>;

    constructor(name: string, args: AzureImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gold:publish:AzureImage", name, {}, opts);
        const s = args.settings;
        const title = imageName(args.vmName, args.version, args.sha256);
        const keys = azure.storage.listStorageAccountKeysOutput({ resourceGroupName: s.resourceGroup!, accountName: s.storageAccount! }, { parent: this });
        const blob = pulumi.interpolate`${title}.vhd`;

        const upload = new command.local.Command(
            `${name}-page-blob`,
            {
                create: pulumi.all([args.artifact, blob]).apply(([file, b]) => sh([...UPLOADER, "upload", "--file", file, "--container", s.container, "--blob", b])),
                delete: blob.apply((b) => sh([...UPLOADER, "delete", "--container", s.container, "--blob", b])),
                dir: repoRoot,
                environment: {
                    AZURE_STORAGE_ACCOUNT: s.storageAccount!,
                    AZURE_STORAGE_KEY: pulumi.secret(keys.keys[0].value),
                },
                triggers: [args.sha256],
            },
            { parent: this, customTimeouts: { create: "3h", delete: "30m" } },
        );
        this.blobUrl = upload.stdout.apply((out) => JSON.parse(out).url as string);

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
                tags: { "gold-os": args.vmName, "gold-version": args.version },
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
