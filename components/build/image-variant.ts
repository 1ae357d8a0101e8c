import * as pulumi from "@pulumi/pulumi";
import { Builder } from "../config";
import { PROVIDERS, ProviderName } from "../recipe/providers";
import { variantInputs } from "../stages/inputs";
import { PackerBuild } from "./packer-build";
import { PackerStageArgs, isoBuildCommand, packerVarArgs } from "./packer-args";
import { sh } from "./shell";
import { StageResult, stageCommand } from "./stage-command";

export interface ImageVariantArgs extends PackerStageArgs {
    readonly provider: ProviderName;
    /** "variant": a short boot of a copy of the base disk; "iso": the seed's full ISO build. */
    readonly builder: Builder;
    /** The OS's base (required for builder "variant"). */
    readonly base?: PackerBuild;
    /** SSH user of the base disk (a vendor image's user; root for our own bases). */
    readonly sshUsername?: string;
}

/** One provider's image of one OS, provisioned with that provider's role, cleaned and zeroed. */
export class ImageVariant extends pulumi.ComponentResource {
    public readonly result: pulumi.Output<StageResult>;
    public readonly artifact: pulumi.Output<string>;
    public readonly fingerprint: string;
    public readonly directory: string;

    constructor(name: string, args: ImageVariantArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gold:build:ImageVariant", name, {}, opts);
        const { os, provider, version, builder, base } = args;
        if (builder === "variant" && !base) throw new Error(`${name}: builder "variant" needs the OS's base`);
        const stage = stageCommand(
            name,
            {
                inputs: variantInputs({ os, site: args.site }, provider, builder, base?.fingerprint),
                directory: `artifacts/${version}/${os.vm_name}/${provider}`,
                create: (dir) => {
                    const vars = packerVarArgs(os.vm_name, version, args.siteOverrides);
                    if (builder === "variant") {
                        return pulumi.interpolate`${sh([
                            "scripts/packer-build.sh", dir, "-only=qemu.variant", ...vars, `-var=build_name=${provider}`,
                            ...(args.sshUsername ? [`-var=ssh_username=${args.sshUsername}`] : []),
                        ])} ${base!.artifact.apply((a) => sh([`-var=source_disk=${a}`]))}`;
                    }
                    return isoBuildCommand(dir, os.vm_name, `virtual/${provider}`, `-only=${PROVIDERS[provider].isoBuilder}.${provider}`, vars);
                },
                timeout: builder === "variant" ? "3h" : "6h",
                environment: args.environment,
            },
            this,
        );
        this.result = stage.result;
        this.artifact = stage.result.apply((r) => r.artifact);
        this.fingerprint = stage.fingerprint;
        this.directory = stage.directory;
        this.registerOutputs({ artifact: this.artifact, fingerprint: this.fingerprint });
    }
}
