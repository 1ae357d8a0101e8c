// The image's Hyper-V generation, from config azure.hyperVGeneration or the OS file
// (publisher and boot alike).
import { FirmwareSetting } from "../firmware";

/** Generation 2 is UEFI (and Trusted Launch, NVMe); generation 1 is BIOS. */
export const GENERATIONS = new FirmwareSetting("azure.hyperVGeneration", [
    ["V2", ["uefi"]],
    ["V1", ["bios"]],
]);

export type Generation = ReturnType<typeof GENERATIONS.of>;

/**
 * A managed image's name: a generation 2 image's says so. An image's generation cannot change,
 * and a new name lets its replacement be made before the old one goes (a generation 1 image
 * keeps the name it always had).
 */
export function managedImageName(title: string, gen: Generation): string {
    return gen === "V2" ? `${title}-gen2` : title;
}
