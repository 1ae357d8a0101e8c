import * as pulumi from "@pulumi/pulumi";
import { BaseImage } from "../config";
import { baseInputs } from "../stages/inputs";
import { PackerStageArgs, isoBuildCommand, packerVarArgs } from "./packer-args";
import { sh } from "./shell";
import { StageResult, stageCommand } from "./stage-command";

export interface PackerBuildArgs extends PackerStageArgs {
    /** Start from this existing disk image instead of the ISO and kickstart. */
    readonly baseImage?: BaseImage;
}

/**
 * The base of one OS: a Packer build from its ISO with the base kickstart (or from an existing
 * disk image), provisioned with the base role. Every provider's variant starts from it.
 */
export class PackerBuild extends pulumi.ComponentResource {
    /** The base disk (qcow2) and its checksum. */
    public readonly result: pulumi.Output<StageResult>;
    public readonly artifact: pulumi.Output<string>;
    /** Content fingerprint of this stage's inputs. */
    public readonly fingerprint: string;
    public readonly directory: string;

    constructor(name: string, args: PackerBuildArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gold:build:PackerBuild", name, {}, opts);
        const { os, version } = args;
        const image = args.baseImage;
        const stage = stageCommand(
            name,
            {
                inputs: baseInputs({ os, site: args.site }, image),
                directory: `artifacts/${version}/${os.vm_name}/base`,
                create: (dir) => {
                    const vars = packerVarArgs(os.vm_name, version, args.siteOverrides);
                    if (image) {
                        return sh([
                            "scripts/packer-build.sh", dir, "-only=qemu.base-disk", ...vars,
                            `-var=source_disk=${image.path}`, `-var=source_disk_checksum=${image.checksum}`,
                            `-var=ssh_username=${image.sshUsername}`, `-var=qemuargs=${JSON.stringify(image.qemuargs)}`,
                        ]);
                    }
                    return isoBuildCommand(dir, os.vm_name, "virtual", "-only=qemu.base", vars);
                },
                timeout: "6h",
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
