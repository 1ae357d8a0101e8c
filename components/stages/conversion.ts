import * as pulumi from "@pulumi/pulumi";
import { PlannedStage, StageInputs } from "../fingerprint";
import type { ToolId } from "../doctor";
import type { ArtifactFormat, ProviderModule } from "../providers";
import { OsVars } from "../recipe/os";
import { q, sh } from "../shell";
import { VariantStage } from "./variant";
import { INPUT, StageComponent } from "./stage-command";

/** What scripts/convert.sh needs beyond qemu-img for a format (the doctor's checks). */
const FORMAT_NEEDS: Partial<Record<ArtifactFormat, ToolId[]>> = { rootfs: ["guestfish"] };

/** What a provider's conversion needs on the machine (the doctor's checks). */
export function conversionNeeds(provider: ProviderModule): ToolId[] {
    return ["qemu-img", ...(FORMAT_NEEDS[provider.format] ?? [])];
}

/**
 * The OS facts a conversion writes into its artifact (the OVF's guest types and description),
 * taken from the OS file and given to scripts/convert.sh as options.
 */
export function osFacts(os: OsVars): string[] {
    return [
        "--os-description", `${os.os_name} ${os.os_version}`,
        "--guest-os-vsphere", os.guest_os_type_vsphere,
        "--guest-os-virtualbox", os.guest_os_type_virtualbox,
    ];
}

/** What the conversion reads: the provider's image (upstream), the script, the OS facts and the provider's options (its `settings`). */
export function conversionInputs(os: OsVars, provider: ProviderModule, name: string, variantFingerprint: string, settings: Record<string, unknown>): StageInputs {
    return {
        files: ["scripts/convert.sh", ...(provider.conversionFiles ?? [])],
        values: { stage: "convert", format: provider.format, name, facts: [...osFacts(os), ...(provider.conversionOptions?.(settings, os) ?? [])] },
        upstream: variantFingerprint,
    };
}

export interface ConversionStageArgs {
    /** The stack: artifacts/<version>/ is this stack's alone. */
    readonly stack: string;
    /** The artifact store (config artifactStore). */
    readonly store: string;
    readonly os: OsVars;
    readonly provider: ProviderModule;
    /** The stage's planned inputs (conversionInputs). */
    readonly plan: PlannedStage;
    /** The image to convert. */
    readonly variant: VariantStage;
    /** Artifact base name: <vm_name>-<version>_<provider>. */
    readonly name: string;
    readonly version: string;
    /** Where the converted artifact goes: artifacts/<version>/<vm_name>/<provider>. */
    readonly directory: string;
}

/** Converts a provider's image into its target format (VHD, tar.gz, OVA, box…) + SHA256SUMS. */
export class ConversionStage extends StageComponent {
    constructor(name: string, args: ConversionStageArgs, opts?: pulumi.ComponentResourceOptions) {
        super(
            "gold:stage:Conversion",
            name,
            {
                plan: args.plan,
                stack: args.stack,
                store: args.store,
                version: args.version,
                directory: `${args.directory}/converted`,
                os: args.os.vm_name,
                provider: args.provider.name,
                input: args.variant,
                // A fixed VHD is the disk Azure imports: a page blob when the store is Azure's.
                pageBlob: args.provider.format === "vhd-fixed",
                // The options its plan fingerprinted (conversionInputs).
                create: (dir) =>
                    `scripts/convert.sh ${q(args.provider.format)} ${INPUT.path} ${q(dir)} ${q(args.name)} ${q(args.version)} --input-format ${INPUT.format} ${sh(args.plan.inputs.values.facts as string[])}`,
                needs: conversionNeeds(args.provider),
                timeout: "2h",
            },
            opts,
            // Named gold:build:Conversion before the stages had one folder: the alias keeps its state.
            "gold:build:Conversion",
        );
    }
}
