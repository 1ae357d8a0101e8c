// The guest OS features a Compute Engine image declares: what its disk and kernel can do, from
// the OS file, plus the ones config gcp.guestOsFeatures adds. A feature the OS file says the
// image cannot have is refused (naming the OS), since a VM made with it would not boot or
// would have no disk or network.
import { badChoice } from "../../recipe/choices";
import { OsVars, bootsWith, hasDriver } from "../../recipe/os";

/** Features declared from the OS file's facts: each with what the OS must have for it. */
const FROM_OS: readonly (readonly [string, string, (os: OsVars) => boolean])[] = [
    // Shielded VM (Secure Boot, vTPM) and every UEFI machine type.
    ["UEFI_COMPATIBLE", "firmware uefi", (os) => bootsWith(os, "uefi")],
    ["VIRTIO_SCSI_MULTIQUEUE", "the virtio_scsi driver", (os) => hasDriver(os, "virtio_scsi")],
    // gVNIC: the only NIC of third-generation and later machine types.
    ["GVNIC", "the gve driver", (os) => hasDriver(os, "gve")],
    // IDPF: the network interface some of the newest machine series offer instead of gVNIC.
    ["IDPF", "the idpf driver", (os) => hasDriver(os, "idpf")],
];

// Not declared from the OS file: SEV_CAPABLE and SEV_SNP_CAPABLE (Confidential VM). Google's
// requirements for a custom Confidential VM image (cloud.google.com/confidential-computing/
// confidential-vm/docs/create-custom-confidential-vm-images) are a kernel of 5.4+ for SEV and 6.1
// LTS+ for SEV-SNP built with CONFIG_AMD_MEM_ENCRYPT, plus gVNIC and NVMe in the initramfs; the
// OS files do not record the kernel's configuration, so the user adds them when they know
// their kernel has it (checked below for what the OS file does record).
const CONFIDENTIAL: readonly (readonly [string, string, (os: OsVars) => boolean])[] = [
    ["SEV_CAPABLE", "firmware uefi and the gve and nvme drivers", (os) => bootsWith(os, "uefi") && hasDriver(os, "gve") && hasDriver(os, "nvme")],
    ["SEV_SNP_CAPABLE", "firmware uefi and the gve and nvme drivers", (os) => bootsWith(os, "uefi") && hasDriver(os, "gve") && hasDriver(os, "nvme")],
];

/** An image's guest OS features: the OS file's, then the ones of config (each once). */
export function guestOsFeatures(extra: readonly string[], os: OsVars): string[] {
    const checked = [...FROM_OS, ...CONFIDENTIAL];
    for (const [feature, needs, has] of checked) {
        if (extra.includes(feature) && !has(os)) {
            const lacking = checked.filter(([, , h]) => !h(os)).map(([f]) => f);
            throw badChoice("config gcp.guestOsFeatures", feature, [`any feature but ${lacking.join(", ")}`], `is not valid for ${os.vm_name}, which lacks ${needs} (its OS file)`);
        }
    }
    const own = FROM_OS.filter(([, , has]) => has(os)).map(([feature]) => feature);
    return [...new Set([...own, ...extra])];
}
