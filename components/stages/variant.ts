import * as pulumi from "@pulumi/pulumi";
import type { ToolId } from "../doctor";
import { PlannedStage, StageInputs } from "../fingerprint";
import type { ProviderModule } from "../providers";
import { OsVars } from "../recipe/os";
import { Recipe } from "../recipe/recipe";
import { sh } from "../shell";
import { BaseStage } from "./base";
import { PackerStageArgs, isoBuildCommand, packerLog, packerNeeds, packerVarArgs } from "./packer";
import { PROVISIONING, buildValues, kickstartInput, osInput, packerFiles } from "./recipe-inputs";
import { INPUT, StageComponent } from "./stage-command";

/** "variant": the provider's role on a copy of the OS's base disk; "iso": the seed's full ISO build. */
export type Builder = "variant" | "iso";

/**
 * How a variant applies its role to the base disk: "chroot" runs it natively in a chroot of a
 * copy (scripts/chroot-variant.sh, no boot); "boot" boots the copy under QEMU and runs it over SSH.
 */
export const VARIANT_MODES = ["chroot", "boot"] as const;
export type VariantMode = (typeof VARIANT_MODES)[number];

/** The Packer source of each mode (templates/chroot.pkr.hcl, templates/build.pkr.hcl). */
const VARIANT_SOURCE: Record<VariantMode, string> = { chroot: "null.variant", boot: "qemu.variant" };

/** What a provider's image reads: its role on the base disk (variant), or a whole ISO install (iso). */
export function variantInputs(recipe: Recipe, os: OsVars, provider: ProviderModule, builder: Builder, mode: VariantMode, baseFingerprint?: string, providerVars: Record<string, string> = {}): StageInputs {
    const files = [...packerFiles(recipe), ...PROVISIONING, `ansible/roles/${provider.name}`, ...(provider.variantFiles ?? [])];
    const values = { ...buildValues(recipe), provider: provider.name, providerVars };
    if (builder === "variant") {
        if (!baseFingerprint) throw new Error(`the ${provider.name} variant of ${os.vm_name} needs its base`);
        // The chroot's set-up (mounts, resolv.conf, policy-rc.d) shapes the image: an input.
        const chroot = mode === "chroot" ? ["scripts/chroot-variant.sh"] : [];
        return { files: [...files, ...chroot], values: { ...values, stage: "variant", mode }, upstream: baseFingerprint };
    }
    return {
        files: [...files, "ansible/roles/base", osInput(recipe, os)],
        values: { ...values, stage: "iso", kickstart: kickstartInput(recipe, `virtual/${provider.name}`, os, provider.isoBuilder) },
    };
}

/** What a provider's image build needs on the machine (the doctor's checks). */
export function variantNeeds(os: OsVars, accelerator: string, provider: ProviderModule, builder: Builder, mode: VariantMode): ToolId[] {
    if (builder === "variant" && mode === "chroot") return ["packer", "ansible", ...(os.os_major === 7 ? (["ansible-python27"] as const) : []), "qemu-img", "chroot"];
    return packerNeeds(os, accelerator, builder === "iso" ? provider.isoBuilder : "qemu");
}

export interface VariantStageArgs extends PackerStageArgs {
    readonly provider: ProviderModule;
    readonly builder: Builder;
    /** How a "variant" build applies the role: in a chroot, or in a QEMU boot. */
    readonly mode: VariantMode;
    /** The stage's planned inputs (variantInputs). */
    readonly plan: PlannedStage;
    /** The OS's base (required for builder "variant"). */
    readonly base?: BaseStage;
    /** SSH user of the base disk (a vendor image's user; root for our own bases). */
    readonly sshUsername?: string;
    /** The provider's build settings for its role (its module's buildVars). */
    readonly providerVars?: Record<string, string>;
    /** URLs its role fetches from besides the OS file's mirrors (its module's buildMirrors): the build's allow list. */
    readonly buildMirrors?: readonly string[];
}

/** One provider's image of one OS, provisioned with that provider's role, cleaned and zeroed. */
export class VariantStage extends StageComponent {
    constructor(name: string, args: VariantStageArgs, opts?: pulumi.ComponentResourceOptions) {
        const { os, provider, version, builder, base, mode } = args;
        if (builder === "variant" && !base) throw new Error(`${name}: builder "variant" needs the OS's base`);
        const buildVars = [
            `-var=build_name=${provider.name}`,
            ...(Object.keys(args.providerVars ?? {}).length ? [`-var=provider_vars=${JSON.stringify(args.providerVars)}`] : []),
            ...(args.buildMirrors?.length ? [`-var=build_mirrors=${JSON.stringify(args.buildMirrors)}`] : []),
        ];
        super(
            "gold:stage:Variant",
            name,
            {
                plan: args.plan,
                stack: args.stack,
                store: args.store,
                input: builder === "variant" ? base : undefined,
                version,
                directory: `artifacts/${version}/${os.vm_name}/${provider.name}`,
                os: os.vm_name,
                provider: provider.name,
                log: packerLog,
                create: (dir) => {
                    if (builder === "iso") return isoBuildCommand(dir, args, `virtual/${provider.name}`, provider.isoBuilder, "iso", buildVars);
                    const words = ["scripts/packer-build.sh", dir, `-only=${VARIANT_SOURCE[mode]}`, ...packerVarArgs(os.vm_name, args.siteOverrides), ...buildVars];
                    if (args.sshUsername && mode === "boot") words.push(`-var=ssh_username=${args.sshUsername}`);
                    // The base's disk, made local by the store (found there by its fingerprint).
                    return `${sh(words)} -var=source_disk=${INPUT.path}`;
                },
                needs: variantNeeds(os, args.accelerator, provider, builder, mode),
                timeout: builder === "variant" ? "3h" : "6h",
                environment: args.environment,
            },
            opts,
            // Named gold:build:ImageVariant before the stages had one folder: the alias keeps its state.
            "gold:build:ImageVariant",
        );
    }
}
