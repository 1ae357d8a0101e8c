import * as azure from "@pulumi/azure-native";
import * as pulumi from "@pulumi/pulumi";
import { PublishInputs, imageName, marks } from "../../publish/names";
import { exportArtifact, storedObject } from "../../publish/store-object";
import type { BootMode } from "../../firstboot/mechanism";
import type { OsVars } from "../../recipe/os";
import type { AzureSettings } from ".";
import { GENERATIONS, managedImageName } from "./boot";
import { definitionFeatures, definitionIdentifier, definitionName } from "./gallery";

export interface AzureImageArgs extends PublishInputs {
    /** The OS: the firmware its disk boots and its kernel's drivers (the definition's generation and features). */
    readonly os: OsVars;
    /** Resource group, location, storage account, container, gallery, generation, managed image (config `azure`). */
    readonly settings: AzureSettings;
    /** The gallery definition's publisher: the site's namespace. */
    readonly publisher: string;
    /** How Azure boots it (the provider's `boot`): Trusted Launch is declared only where it is Secure Boot with a vTPM. */
    readonly boot: BootMode;
}

/**
 * A fixed VHD in a page blob (the store's, when the store is this storage account; else a
 * copy), published into the Compute Gallery: the OS's image definition of this version (its
 * generation; Trusted Launch and NVMe on generation 2) and its image version, made from the
 * VHD itself. A managed image beside it unless config azure.managedImage is false (it cannot
 * be used for Trusted Launch, but it is what version stacks gave before the gallery).
 */
export class AzureImage extends pulumi.ComponentResource {
    public readonly imageId?: pulumi.Output<string>;
    public readonly blobUrl: pulumi.Output<string>;
    public readonly galleryImageVersionId: pulumi.Output<string>;

    constructor(name: string, args: AzureImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gold:publish:AzureImage", name, {}, opts);
        const s = args.settings;
        const title = imageName(args.vmName, args.version, args.sha256);
        const account = s.storageAccount!;
        const resourceGroupName = s.resourceGroup!;
        const gen = GENERATIONS.of(s.hyperVGeneration, args.os);
        const tags = { "gold-os": args.vmName, "gold-version": args.version, ...marks(args) };
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
            const keys = azure.storage.listStorageAccountKeysOutput({ resourceGroupName, accountName: account }, { parent: this });
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

        if (s.managedImage) {
            const image = new azure.compute.Image(
                `${name}-image`,
                {
                    resourceGroupName,
                    location: s.location,
                    imageName: title.apply((t) => managedImageName(t, gen)),
                    hyperVGeneration: gen,
                    storageProfile: {
                        osDisk: { osType: "Linux", osState: "Generalized", blobUri: this.blobUrl, caching: "ReadWrite", storageAccountType: "Standard_LRS" },
                    },
                    tags,
                },
                { parent: this, customTimeouts: { create: "1h" } },
            );
            this.imageId = image.id;
        }

        // The definition is this version's (./gallery.ts says why), in the existing gallery; the
        // version goes in it.
        const place = { resourceGroupName, galleryName: s.gallery!, galleryImageName: definitionName(args.vmName, args.version, gen), location: s.location, tags };
        const definition = new azure.compute.GalleryImage(
            `${name}-gallery-image`,
            {
                ...place,
                description: `${args.vmName} ${args.version} (gold standard image)`,
                osType: "Linux",
                osState: "Generalized",
                hyperVGeneration: gen,
                architecture: "x64",
                identifier: definitionIdentifier(args.publisher, args.vmName, args.version, gen),
                features: definitionFeatures(gen, args.boot, args.os),
            },
            { parent: this },
        );

        // Made from the VHD itself: the managed image is optional. Its name is the version's; a
        // rebuilt image of the same version (a changed recipe) cannot be a new source of the same
        // version in Azure, so the old version is deleted first and made again.
        const client = azure.authorization.getClientConfigOutput({ parent: this });
        const storageAccountId = pulumi.interpolate`/subscriptions/${client.subscriptionId}/resourceGroups/${resourceGroupName}/providers/Microsoft.Storage/storageAccounts/${account}`;
        const version = new azure.compute.GalleryImageVersion(
            `${name}-gallery-version`,
            {
                ...place,
                galleryImageVersionName: args.version,
                storageProfile: { osDiskImage: { source: { uri: this.blobUrl, storageAccountId } } },
                publishingProfile: { targetRegions: [{ name: s.location!, regionalReplicaCount: 1 }] },
            },
            { parent: this, dependsOn: [definition], customTimeouts: { create: "2h" }, deleteBeforeReplace: true, replaceOnChanges: ["storageProfile"] },
        );
        this.galleryImageVersionId = version.id;
        this.registerOutputs({ imageId: this.imageId, blobUrl: this.blobUrl, galleryImageVersionId: this.galleryImageVersionId });
    }
}
