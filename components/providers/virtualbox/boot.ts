// What the box's packaged Vagrantfile makes a VM boot with, from config virtualbox.firmware or
// the OS file: BIOS unless asked, as Vagrant boxes have always booted.
import type { OsVars } from "../../recipe/os";
import { BIOS, BootMode } from "../provider";
import { FirmwareSetting } from "../firmware";

export const FIRMWARE = new FirmwareSetting("virtualbox.firmware", [
    ["bios", ["bios"]],
    ["efi", ["uefi"]],
]);

/** A VM of the box: EFI (no Secure Boot: VirtualBox's EFI has no keys enrolled) or BIOS. */
export function virtualboxBoot(set: ReturnType<typeof FIRMWARE.of> | undefined, os: OsVars): BootMode {
    return FIRMWARE.of(set, os) === "efi" ? { firmware: "uefi", secureBoot: false, tpm: false } : BIOS;
}
