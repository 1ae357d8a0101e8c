import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { PlannedStage, StageInputs } from "../fingerprint";
import type { ToolId } from "../doctor";
import type { ProviderModule } from "../providers";
import { OsVars } from "../recipe/os";
import { repoRoot } from "../recipe/paths";
import { sh } from "../shell";
import { BIOS, BootMode, bootName } from "../firstboot/mechanism";
import { ConversionStage } from "./conversion";
import { INPUT, StageComponent } from "./stage-command";

/**
 * What a first-boot test reads: the converted artifact (its conversion's fingerprint, hence
 * its content), the test's own code and the provider's mechanism and contract. An unchanged
 * image is not tested again.
 */
export function firstBootInputs(os: OsVars, provider: ProviderModule, conversionFingerprint: string, ways?: readonly string[], boot: BootMode = BIOS): StageInputs {
    const own = `components/providers/${provider.name}/first-boot.ts`;
    return {
        files: ["components/firstboot", "scripts/first-boot.ts", "scripts/with-slot.sh", "scripts/slots.sh", ...(fs.existsSync(path.join(repoRoot, own)) ? [own] : [])],
        values: { stage: "first-boot", provider: provider.name, format: provider.format, user: os.cloud_user, imdsV2: os.imds_v2, ...(ways ? { ways } : {}), boot: bootName(boot), drivers: os.kernel_drivers },
        upstream: conversionFingerprint,
    };
}

/** What playing a provider's first boot needs on the machine (the doctor's checks), booted as `boot` says. */
export function firstBootNeeds(provider: ProviderModule, boot: BootMode = BIOS): ToolId[] {
    // A machine image is read offline (guestfish) before it boots; the build key must be nowhere on it.
    const vm: ToolId[] = provider.firstBoot.kind === "vm" ? ["qemu", "qemu-img", "ssh-keygen", "guestfish", "build-key"] : [];
    // UEFI firmware and a TPM come with the boot mode (a box asked for EFI needs OVMF too).
    const firmware: ToolId[] = provider.firstBoot.kind === "vm" ? [...(boot.firmware === "uefi" ? (["ovmf"] as const) : []), ...(boot.tpm ? (["swtpm"] as const) : [])] : [];
    return [...vm, ...firmware, ...(provider.firstBoot.tools ?? [])];
}

export interface FirstBootStageArgs {
    /** The stack: artifacts/<version>/ is this stack's alone. */
    readonly stack: string;
    /** The artifact store (config artifactStore). */
    readonly store: string;
    readonly os: OsVars;
    readonly provider: ProviderModule;
    readonly version: string;
    /** The stage's planned inputs (firstBootInputs). */
    readonly plan: PlannedStage;
    /** The converted artifact to boot: the one that is published. */
    readonly conversion: ConversionStage;
    /** Where the test's serial console log and report go: artifacts/<version>/<vm_name>/<provider>. */
    readonly directory: string;
    /** The ways of its cloud to boot (the provider's firstBootWays): part of the plan's inputs. */
    readonly ways?: readonly string[];
    /** How its cloud boots it (the provider's `boot`): part of the plan's inputs. */
    readonly boot?: BootMode;
    /** Environment of the test (parallel slots): not fingerprinted. */
    readonly environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * Boots the converted artifact the way its cloud starts a machine and proves that a user gets
 * in with their own key and that it carries what the cloud needs (scripts/first-boot.ts). Its
 * result is the artifact again: a publisher that reads it publishes only a tested image.
 */
export class FirstBootStage extends StageComponent {
    constructor(name: string, args: FirstBootStageArgs, opts?: pulumi.ComponentResourceOptions) {
        super(
            "gold:test:FirstBoot",
            name,
            {
                plan: args.plan,
                stack: args.stack,
                store: args.store,
                version: args.version,
                directory: `${args.directory}/tested`,
                os: args.os.vm_name,
                provider: args.provider.name,
                // scripts/first-boot.ts --out DIR works in DIR.partial.
                log: (dir) => `${dir}.partial/serial.log`,
                input: args.conversion,
                create: (dir) =>
                    `${sh(["scripts/with-slot.sh", "node_modules/.bin/ts-node", "--transpile-only", "scripts/first-boot.ts", "--provider", args.provider.name])}` +
                    ` --image ${INPUT.path} --sha256 ${INPUT.sha256} ${sh(["--os", args.os.vm_name, "--out", dir])}` +
                    (args.provider.firstBoot.kind === "container" ? ` --dockerfile ${INPUT.file(args.provider.firstBoot.dockerfile)}` : "") +
                    (args.ways ? ` ${sh(["--ways", args.ways.join(",")])}` : "") +
                    (args.provider.firstBoot.kind === "vm" ? ` ${sh(["--boot", bootName(args.boot ?? BIOS)])}` : ""),
                needs: firstBootNeeds(args.provider, args.boot),
                // A boot under emulation, the cloud's agent, the checks.
                timeout: "1h",
                environment: args.environment,
            },
            opts,
        );
    }
}
