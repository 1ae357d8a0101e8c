// Microsoft Azure: a fixed VHD uploaded as a page blob, published into a Compute Gallery (an
// image definition per OS and version, Trusted Launch and NVMe on generation 2, and its image
// version), and as a managed image unless asked not to.
import { choice, flag, text } from "../../recipe/fields";
import { imageTitle, publishInputs } from "../../publish/names";
import { BIOS, Settings, defineProvider } from "../provider";
import { uefiWithTpm } from "../firmware";
import { GENERATIONS, managedImageName } from "./boot";
import { firstBoot } from "./first-boot";
import { definitionName } from "./gallery";
import { AzureImage } from "./image";

const fields = {
    resourceGroup: text(/^[A-Za-z0-9][A-Za-z0-9._()-]*$/, "a resource group name", 90).optional(),
    location: text(/^[a-z0-9]+$/, "an Azure location such as westeurope", 64).optional(),
    storageAccount: text(/^[a-z0-9]{3,24}$/, "3-24 lowercase letters and digits").optional(),
    container: text(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, "a blob container name").default("images"),
    /** The Compute Gallery (made once, outside the version stacks) each version is published into. */
    gallery: text(/^[A-Za-z0-9][A-Za-z0-9._]*$/, "a gallery name (letters, digits, '.', '_')", 80).optional(),
    /** Unset: per OS, V2 where its disk boots UEFI, else V1. */
    hyperVGeneration: choice(GENERATIONS.choices).optional(),
    /** A managed image beside the gallery version (the output imageId), as version stacks gave before the gallery. */
    managedImage: flag().default(true),
};

/** Config `azure`, checked. */
export type AzureSettings = Settings<typeof fields>;

export default defineProvider({
    name: "azure",
    title: "Microsoft Azure",
    fields,
    requiredToPublish: ["resourceGroup", "location", "storageAccount", "gallery"],
    check: (s, ctx) => {
        if (ctx.publishing && !/^\d{1,9}\.\d{1,9}\.\d{1,9}$/.test(ctx.version)) {
            throw new Error(`config version: '${ctx.version}' cannot be an Azure Compute Gallery image version, which must be MAJOR.MINOR.PATCH; valid: a version such as 1.4.0`);
        }
        // One account serves both: the store's page blobs are what Azure imports (and the copy's
        // credentials, the account's key, would not open a store in another account).
        if (ctx.publishing && ctx.store.kind === "azblob" && s.storageAccount && ctx.store.account !== s.storageAccount) {
            throw new Error(
                `config artifactStore: '${ctx.store.url}' is in storage account '${ctx.store.account}', not azure.storageAccount '${s.storageAccount}'; valid: an azblob:// store in '${s.storageAccount}', or a store of another kind`,
            );
        }
        for (const os of ctx.oses) {
            const gen = GENERATIONS.of(s.hyperVGeneration, os);
            // Managed image and definition names: at most 80 characters (the image's with its sha256 suffix).
            for (const [what, name] of [["image", managedImageName(imageTitle(os.vm_name, ctx.version, "0".repeat(64)), gen)], ["image definition", definitionName(os.vm_name, ctx.version, gen)]]) {
                if (name.length > 80) throw new Error(`config version: '${ctx.version}' is too long: the Azure ${what} name ${name} has ${name.length} characters, at most 80`);
            }
        }
    },
    isoBuilder: "qemu",
    format: "vhd-fixed",
    firstBoot,
    // Generation 2 from a Trusted Launch-supported definition: UEFI with a vTPM, Secure Boot
    // where the OS's shim is signed (Trusted Launch's defaults).
    boot: (s, os) => (GENERATIONS.of(s.hyperVGeneration, os) === "V2" ? uefiWithTpm(os) : BIOS),
    outputs: ["imageId", "blobUrl", "galleryImageVersionId"],
    publish: (a) => {
        const img = new AzureImage(a.name, { ...publishInputs(a), os: a.os, settings: a.settings, publisher: a.site.namespace, boot: a.boot });
        return { blobUrl: img.blobUrl, galleryImageVersionId: img.galleryImageVersionId, ...(img.imageId ? { imageId: img.imageId } : {}) };
    },
});
