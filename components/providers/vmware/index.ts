// VMware: an OVA (OVF + SHA256 manifest + streamOptimized VMDK) at the seed's path; its upload
// (vSphere's "Deploy OVF Template", govc import.ova) is the user's: ovftool is not free.
import { choice, flag } from "../../recipe/fields";
import { publishInputs } from "../../publish/names";
import { Settings, defineProvider } from "../provider";
import { FIRMWARE, vmwareBoot } from "./boot";
import { firstBoot } from "./first-boot";
import { VmwareOva } from "./ova";

const fields = {
    /** The OVF's firmware; unset: per OS, efi where its disk boots UEFI, else bios. */
    firmware: choice(FIRMWARE.choices).optional(),
    /** The OVF's UEFI Secure Boot; unset: with efi, the OS file's secure_boot. */
    secureBoot: flag().optional(),
};

/** Config `vmware`, checked. */
export type VmwareSettings = Settings<typeof fields>;

export default defineProvider({
    name: "vmware",
    title: "VMware",
    fields,
    requiredToPublish: [],
    check: (s, ctx) => {
        for (const os of ctx.oses) vmwareBoot(s.firmware, s.secureBoot, os);
    },
    isoBuilder: "vmware-iso",
    format: "ova",
    // The OVF's firmware always (vSphere's default differs by guest type), Secure Boot with EFI.
    conversionOptions: (s, os) => {
        const mode = vmwareBoot(s.firmware, s.secureBoot, os);
        return ["--firmware", mode.firmware === "uefi" ? "efi" : "bios", "--secure-boot", String(mode.secureBoot)];
    },
    firstBoot,
    boot: (s, os) => vmwareBoot(s.firmware, s.secureBoot, os),
    outputs: ["ovaPath"],
    publish: (a) => ({ ovaPath: new VmwareOva(a.name, { ...publishInputs(a), target: a.seedPath("ova") }).ovaPath }),
});
