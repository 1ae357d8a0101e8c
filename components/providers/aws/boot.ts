// The AMI's boot mode, from config aws.bootMode or the OS file (publisher and boot alike).
import { FirmwareSetting } from "../firmware";

export const BOOT_MODES = new FirmwareSetting("aws.bootMode", [
    // Nitro types boot UEFI, Xen types legacy BIOS: only a disk that boots both may say so.
    ["uefi-preferred", ["bios", "uefi"]],
    ["uefi", ["uefi"]],
    ["legacy-bios", ["bios"]],
]);
