// The Compute Gallery image definition a version stack publishes each OS into: its name and
// what it declares VMs may use.
import type { BootMode } from "../../firstboot/mechanism";
import { OsVars, hasDriver } from "../../recipe/os";
import type { Generation } from "./boot";

/**
 * The definition's name, `<os>-<version>-gen1|gen2`: the version stack makes it and removes it
 * with the version. Never an OS id alone, the name of the definitions users made by hand
 * (`az sig image-definition create -i <os>`, as the README once said): a version stack never
 * adopts or replaces one of theirs. Not shared by version stacks: azure-native refuses to create
 * a resource that exists, and one stack's destroy would remove what the others publish into.
 * With the generation: a definition's generation and security type never change, so a stack
 * that changes generation makes a new definition and moves its version there.
 */
export function definitionName(os: string, version: string, gen: Generation): string {
    return `${os}-${version}-${genTag(gen)}`;
}

/** Its publisher, offer and SKU: unique in the gallery (as Azure requires) as its name is. */
export function definitionIdentifier(publisher: string, os: string, version: string, gen: Generation): { publisher: string; offer: string; sku: string } {
    return { publisher, offer: os, sku: `${version}-${genTag(gen)}` };
}

const genTag = (gen: Generation) => `gen${gen.slice(1)}`;

/**
 * What the definition lets VMs use, from its generation, the boot its first-boot test proved and
 * the OS's kernel.
 */
export function definitionFeatures(gen: Generation, boot: BootMode, os: OsVars): { name: string; value: string }[] {
    const gen2 = gen === "V2";
    return [
        // Trusted Launch is generation 2 with Secure Boot and a vTPM, both on by default; "Supported"
        // lets a VM choose it or not. Declared only where the test booted that way: a disk whose
        // shim is not signed would not start on a Trusted Launch VM's defaults.
        ...(gen2 && boot.secureBoot && boot.tpm ? [{ name: "SecurityType", value: "TrustedLaunchSupported" }] : []),
        // NVMe-only sizes (v6 and later) refuse a definition that does not declare NVMe, and Azure
        // does not infer it from the disk (hashicorp/packer-plugin-azure#521). Generation 2 only.
        ...(gen2 && hasDriver(os, "nvme") ? [{ name: "DiskControllerTypes", value: "SCSI, NVMe" }] : []),
        // Accelerated networking hands the VM a MANA or Mellanox virtual function: a kernel new
        // enough for MANA has both; EL 7.2/7.3 predate Azure's support for it (EL 7.4).
        ...(hasDriver(os, "mana") ? [{ name: "IsAcceleratedNetworkSupported", value: "True" }] : []),
    ];
}
