import * as pulumi from "@pulumi/pulumi";
import { ProviderName } from "../recipe/providers";
import { conversionInputs } from "../stages/inputs";
import { ImageVariant } from "./image-variant";
import { sh } from "./shell";
import { StageResult, stageCommand } from "./stage-command";

export interface ConversionArgs {
    /** The provider whose target format is made (see the targets table in README.md). */
    readonly provider: ProviderName;
    /** The image to convert. */
    readonly variant: ImageVariant;
    /** Artifact base name: <vm_name>-<version>_<provider>. */
    readonly name: string;
    readonly version: string;
    /** Where the converted artifact goes: artifacts/<version>/<vm_name>/<provider>. */
    readonly directory: string;
}

/** Converts a provider's image into its target format (VHD, tar.gz, OVA, box…) + SHA256SUMS. */
export class Conversion extends pulumi.ComponentResource {
    public readonly result: pulumi.Output<StageResult>;
    public readonly artifact: pulumi.Output<string>;
    public readonly sha256: pulumi.Output<string>;
    public readonly fingerprint: string;

    constructor(name: string, args: ConversionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gold:build:Conversion", name, {}, opts);
        const stage = stageCommand(
            name,
            {
                inputs: conversionInputs(args.provider, args.name, args.variant.fingerprint),
                directory: `${args.directory}/converted`,
                create: (dir) =>
                    args.variant.artifact.apply((input) => sh(["scripts/convert.sh", args.provider, input, dir, args.name, args.version])),
                timeout: "2h",
            },
            this,
        );
        this.result = stage.result;
        this.artifact = stage.result.apply((r) => r.artifact);
        this.sha256 = stage.result.apply((r) => r.sha256);
        this.fingerprint = stage.fingerprint;
        this.registerOutputs({ artifact: this.artifact, sha256: this.sha256, fingerprint: this.fingerprint });
    }
}
