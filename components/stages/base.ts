import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { PlannedStage, StageInputs } from "../fingerprint";
import { OsVars } from "../recipe/os";
import { Recipe } from "../recipe/recipe";
import { sh } from "../shell";
import { PackerStageArgs, isoBuildCommand, packerVarArgs } from "./packer";
import { PROVISIONING, buildValues, kickstartInput, osInput, packerFiles } from "./recipe-inputs";
import { StageResult, stageCommand } from "./stage-command";

/** An existing disk image that an OS's base starts from instead of its ISO (config baseImages). */
export interface BaseImage {
    readonly path: string;
    /** "sha256:<hex>" or "none". */
    readonly checksum: string;
    readonly sshUsername: string;
    /** Extra QEMU arguments, e.g. -kernel/-initrd/-append for a disk without a bootloader. */
    readonly qemuargs: string[][];
}

/** What the base reads: the OS install from its ISO with the base kickstart, or an existing disk image. */
export function baseInputs(recipe: Recipe, os: OsVars, image?: BaseImage): StageInputs {
    const from = image
        ? { image: { path: image.path, checksum: image.checksum === "none" ? diskIdentity(image.path) : image.checksum, qemuargs: image.qemuargs, user: image.sshUsername } }
        : { kickstart: kickstartInput(recipe, "virtual", os) };
    return {
        files: [...packerFiles(recipe), ...PROVISIONING, "ansible/roles/base", osInput(recipe, os)],
        values: { ...buildValues(recipe), stage: "base", ...from },
    };
}

/**
 * A disk image without a checksum is known by size and modification time: hashing gigabytes
 * on every preview would make preview slow. Give a checksum to be exact.
 */
function diskIdentity(file: string): string {
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (!st) throw new Error(`base image ${file} does not exist`);
    return `size=${st.size} mtime=${st.mtimeMs}`;
}

export interface BaseStageArgs extends PackerStageArgs {
    /** The stage's planned inputs (baseInputs). */
    readonly plan: PlannedStage;
    /** Start from this existing disk image instead of the ISO and kickstart. */
    readonly baseImage?: BaseImage;
}

/**
 * The base of one OS: a Packer build from its ISO with the base kickstart (or from an existing
 * disk image), provisioned with the base role. Every provider's variant starts from it.
 */
export class BaseStage extends pulumi.ComponentResource {
    /** The base disk (qcow2) and its checksum. */
    public readonly result: pulumi.Output<StageResult>;
    public readonly artifact: pulumi.Output<string>;
    /** Content fingerprint of this stage's inputs. */
    public readonly fingerprint: string;

    constructor(name: string, args: BaseStageArgs, opts?: pulumi.ComponentResourceOptions) {
        // Named gold:build:PackerBuild before the stages had one folder: the alias keeps its state.
        super("gold:stage:Base", name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), { type: "gold:build:PackerBuild" }] });
        const { os, version } = args;
        const image = args.baseImage;
        const stage = stageCommand(
            name,
            {
                plan: args.plan,
                directory: `artifacts/${version}/${os.vm_name}/base`,
                create: (dir) => {
                    if (!image) return isoBuildCommand(dir, args, "virtual", "-only=qemu.base");
                    return sh([
                        "scripts/packer-build.sh", dir, "-only=qemu.base-disk", ...packerVarArgs(os.vm_name, version, args.siteOverrides),
                        `-var=source_disk=${image.path}`, `-var=source_disk_checksum=${image.checksum}`,
                        `-var=ssh_username=${image.sshUsername}`, `-var=qemuargs=${JSON.stringify(image.qemuargs)}`,
                    ]);
                },
                timeout: "6h",
                environment: args.environment,
            },
            this,
        );
        this.result = stage.result;
        this.artifact = stage.result.apply((r) => r.artifact);
        this.fingerprint = args.plan.fingerprint;
        this.registerOutputs({ artifact: this.artifact, fingerprint: this.fingerprint });
    }
}
