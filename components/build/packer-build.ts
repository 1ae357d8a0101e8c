import * as pulumi from "@pulumi/pulumi";
import { BaseImage } from "../config";
import { HclValue } from "../recipe/hcl";
import { OsVars } from "../recipe/os";
import { SiteVars } from "../recipe/site";
import { baseInputs } from "../stages/inputs";
import { packerVarArgs } from "./packer-args";
import { sh } from "./shell";
import { StageResult, stageCommand } from "./stage-command";

export interface PackerBuildArgs {
    /** The OS to install (templates/os/<vm_name>.pkrvars.hcl). */
    readonly os: OsVars;
    /** Image version: part of every artifact's name. */
    readonly version: string;
    /** Site variables in effect (fingerprinted). */
    readonly site: SiteVars;
    /** Site variables set by the stack's config, passed to Packer as -var. */
    readonly siteOverrides: Record<string, HclValue>;
    /** Start from this existing disk image instead of the ISO and kickstart. */
    readonly baseImage?: BaseImage;
    /** Environment of the build (parallel slots, Packer cache): not fingerprinted. */
    readonly environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
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
                    return [
                        sh(["scripts/gen-keys.sh"]) + " >&2",
                        sh(["node_modules/.bin/ts-node", "--transpile-only", "scripts/ks.ts", "--build", "virtual", "--os", os.vm_name, "--out", `${dir}.http`]),
                        sh(["scripts/packer-build.sh", dir, "-only=qemu.base", ...vars, `-var=http_directory=${dir}.http`]),
                    ].join(" && ");
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
