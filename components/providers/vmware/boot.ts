// What the OVA's descriptor declares a VM boots with, from config vmware.firmware and
// vmware.secureBoot or the OS file: vSphere makes the VM that way, the first-boot test boots it so.
import { badChoice } from "../../recipe/choices";
import type { OsVars } from "../../recipe/os";
import { BIOS, BootMode } from "../provider";
import { FirmwareSetting } from "../firmware";

export const FIRMWARE = new FirmwareSetting("vmware.firmware", [
    ["efi", ["uefi"]],
    ["bios", ["bios"]],
]);

/** The OVF's firmware and Secure Boot for an OS; a Secure Boot the OS or the firmware cannot have is refused. */
export function vmwareBoot(firmwareSet: ReturnType<typeof FIRMWARE.of> | undefined, secureBootSet: boolean | undefined, os: OsVars): BootMode {
    const firmware = FIRMWARE.of(firmwareSet, os);
    if (secureBootSet && firmware !== "efi") throw badChoice("config vmware.secureBoot", true, ["false"], `is not valid for ${os.vm_name} with vmware.firmware bios (Secure Boot is UEFI's)`);
    if (secureBootSet && !os.secure_boot) throw badChoice("config vmware.secureBoot", true, ["false", "or unset"], `is not valid for ${os.vm_name}, whose OS file says secure_boot false (its shim is not one today's Secure Boot accepts)`);
    return firmware === "efi" ? { firmware: "uefi", secureBoot: secureBootSet ?? os.secure_boot, tpm: false } : BIOS;
}
