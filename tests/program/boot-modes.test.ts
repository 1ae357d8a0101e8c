// How each provider's cloud boots each OS's image (bootModeOf): the one answer its publisher
// declares and its first-boot test boots, from the OS files and the stack's config. The full
// config (defaults) first, then the settings that change it.
import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "../../components/config";
import { providerModule, providerNames } from "../../components/providers";
import { BootMode, bootModeOf } from "../../components/providers/provider";
import { FULL_STACK, fullConfig } from "../support/full-config";
import { installMocks, registered, setConfig } from "../support/program";

installMocks(FULL_STACK, fullConfig(providerNames()));

const UEFI_SB_TPM: BootMode = { firmware: "uefi", secureBoot: true, tpm: true };
const UEFI_SB: BootMode = { firmware: "uefi", secureBoot: true, tpm: false };
const UEFI: BootMode = { firmware: "uefi", secureBoot: false, tpm: false };
const BIOS: BootMode = { firmware: "bios", secureBoot: false, tpm: false };

/** Every provider's boot mode of an OS under a stack config. */
function modes(config: Record<string, unknown>, os: string): Record<string, BootMode> {
    setConfig(config);
    const c = loadConfig(new pulumi.Config(), FULL_STACK);
    const facts = c.recipe.os(os);
    return Object.fromEntries(providerNames().map((p) => [p, bootModeOf(providerModule(p), c.settings[p], facts)]));
}

test("defaults: a hybrid disk with Secure Boot (Debian-12) boots UEFI, Secure Boot and a TPM on the clouds, EFI and Secure Boot from the OVF, BIOS elsewhere", () => {
    assert.deepEqual(modes(fullConfig(providerNames()), "Debian-12"), {
        aws: UEFI_SB_TPM,
        azure: UEFI_SB_TPM,
        docker: BIOS,
        gcp: UEFI_SB_TPM,
        openstack: BIOS,
        virtualbox: BIOS,
        vmware: UEFI_SB,
    });
});

test("defaults: a BIOS-only disk (EL7) boots BIOS everywhere", () => {
    for (const os of ["CentOS-7.2.1511", "CentOS-7.3.1611", "RedHat-7.2"]) {
        for (const [p, mode] of Object.entries(modes(fullConfig(providerNames()), os))) assert.deepEqual(mode, BIOS, `${os} ${p}`);
    }
});

test("settings that change it: BIOS asked of a hybrid disk, EFI asked of the box, the OVF without Secure Boot", () => {
    // Debian-12 alone: the same settings for EL7 are refused (bad-config.test.ts).
    const base: Record<string, unknown> = { ...fullConfig(providerNames()), oses: ["Debian-12"] };
    const config = {
        ...base,
        aws: { ...(base.aws as object), bootMode: "legacy-bios" },
        azure: { ...(base.azure as object), hyperVGeneration: "V1" },
        vmware: { secureBoot: false },
        virtualbox: { firmware: "efi" },
    };
    const m = modes(config, "Debian-12");
    assert.deepEqual(m.aws, BIOS);
    assert.deepEqual(m.azure, BIOS);
    assert.deepEqual(m.vmware, UEFI);
    assert.deepEqual(m.virtualbox, UEFI);
    // uefi (not uefi-preferred): still UEFI, Secure Boot and a TPM.
    assert.deepEqual(modes({ ...base, aws: { ...(base.aws as object), bootMode: "uefi" } }, "Debian-12").aws, UEFI_SB_TPM);
});

test("nothing is registered by these checks", () => {
    assert.equal(registered.length, 0);
});
