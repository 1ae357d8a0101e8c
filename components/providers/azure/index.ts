// Microsoft Azure: a fixed VHD uploaded as a page blob, then a managed image (and a Compute
// Gallery image version when a gallery is set).
import { choice, text } from "../../recipe/fields";
import { imageTitle, publishInputs } from "../../publish/names";
import { Settings, defineProvider } from "../provider";
import { firstBoot } from "./first-boot";
import { AzureImage } from "./image";

const fields = {
    resourceGroup: text(/^[A-Za-z0-9][A-Za-z0-9._()-]*$/, "a resource group name", 90).optional(),
    location: text(/^[a-z0-9]+$/, "an Azure location such as westeurope", 64).optional(),
    storageAccount: text(/^[a-z0-9]{3,24}$/, "3-24 lowercase letters and digits").optional(),
    container: text(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, "a blob container name").default("images"),
    gallery: text(/^[A-Za-z0-9][A-Za-z0-9._]*$/, "a gallery name (letters, digits, '.', '_')", 80).optional(),
    hyperVGeneration: choice(["V1"], "every image is a BIOS/MBR disk: V2 (UEFI) needs a hybrid disk, not built yet").default("V1"),
};

/** Config `azure`, checked. */
export type AzureSettings = Settings<typeof fields>;

export default defineProvider({
    name: "azure",
    title: "Microsoft Azure",
    fields,
    requiredToPublish: ["resourceGroup", "location", "storageAccount"],
    check: (s, ctx) => {
        if (ctx.publishing && s.gallery && !/^\d{1,9}\.\d{1,9}\.\d{1,9}$/.test(ctx.version)) {
            throw new Error(`config version: '${ctx.version}' cannot be an Azure Compute Gallery image version, which must be MAJOR.MINOR.PATCH (unset azure.gallery or use such a version)`);
        }
        // One account serves both: the store's page blobs are what Azure imports (and the copy's
        // credentials, the account's key, would not open a store in another account).
        if (ctx.publishing && ctx.store.kind === "azblob" && s.storageAccount && ctx.store.account !== s.storageAccount) {
            throw new Error(
                `config artifactStore: '${ctx.store.url}' is in storage account '${ctx.store.account}', not azure.storageAccount '${s.storageAccount}'; valid: an azblob:// store in '${s.storageAccount}', or a store of another kind`,
            );
        }
        // Managed image names: at most 80 characters, the sha256 suffix included.
        for (const os of ctx.oses) {
            const name = imageTitle(os.vm_name, ctx.version, "0".repeat(64));
            if (name.length > 80) throw new Error(`config version: '${ctx.version}' is too long: the Azure image name ${name} has ${name.length} characters, at most 80`);
        }
    },
    isoBuilder: "qemu",
    format: "vhd-fixed",
    firstBoot,
    outputs: ["imageId", "blobUrl", "galleryImageVersionId"],
    publish: (a) => {
        const img = new AzureImage(a.name, { ...publishInputs(a), settings: a.settings });
        return { imageId: img.imageId, blobUrl: img.blobUrl, ...(img.galleryImageVersionId ? { galleryImageVersionId: img.galleryImageVersionId } : {}) };
    },
});
