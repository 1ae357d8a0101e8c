import * as pulumi from "@pulumi/pulumi";
import { PlannedStage, StageInputs } from "../fingerprint";
import type { ToolId } from "../doctor";
import type { ArtifactFormat, ProviderModule } from "../providers";
import { OsVars } from "../recipe/os";
import { q, sh } from "../shell";
import { VariantStage } from "./variant";
import { INPUT, StageComponent } from "./stage-command";

/** What scripts/convert.sh needs beyond qemu-img for a format (the doctor's checks). */
const FORMAT_NEEDS: Partial<Record<ArtifactFormat, ToolId[]>> = { rootfs: ["guestfish", "lzop"] };

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

/**
 * The converted artifact's name, <vm_name>_<provider>: no version. One conversion serves every
 * version of its recipe; the version is in the names the publishers give (the seed's
 * <vm_name>-<version>_<provider> file names, image names, tags, the Vagrant catalog).
 */
export function convertedName(os: OsVars, provider: ProviderModule): string {
    return `${os.vm_name}_${provider.name}`;
}

/** The seed's name of what is published for a version: <vm_name>-<version>_<provider> (plus the artifact's extension). */
export function seedName(os: OsVars, provider: ProviderModule, version: string): string {
    return `${os.vm_name}-${version}_${provider.name}`;
}

/** The seed's file name, for a version, of a stored converted artifact (<vm_name>_<provider><ext>). */
export function seedFileName(os: OsVars, provider: ProviderModule, version: string, stored: string): string {
    const name = convertedName(os, provider);
    if (!stored.startsWith(name)) throw new Error(`${stored} is not a conversion of ${os.vm_name} for ${provider.name} (${name}.*)`);
    return seedName(os, provider, version) + stored.slice(name.length);
}

/** What the conversion reads: the provider's image (upstream), the script, the OS facts and the provider's options (its `settings`). */
export function conversionInputs(os: OsVars, provider: ProviderModule, variantFingerprint: string, settings: Record<string, unknown>): StageInputs {
    return {
        files: ["scripts/convert.sh", ...(provider.conversionFiles ?? [])],
        values: { stage: "convert", format: provider.format, name: convertedName(os, provider), facts: [...osFacts(os), ...(provider.conversionOptions?.(settings, os) ?? [])] },
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
    /** The stack's version: the directory the stage builds in (artifacts/<version>/…), never its bytes. */
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
                    `scripts/convert.sh ${q(args.provider.format)} ${INPUT.path} ${q(dir)} ${q(convertedName(args.os, args.provider))} --input-format ${INPUT.format} ${sh(args.plan.inputs.values.facts as string[])}`,
                needs: conversionNeeds(args.provider),
                timeout: "2h",
            },
            opts,
            // Named gold:build:Conversion before the stages had one folder: the alias keeps its state.
            "gold:build:Conversion",
        );
    }
}
