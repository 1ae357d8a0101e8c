import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { PlannedStage, StageInputs } from "../fingerprint";
import { OsVars } from "../recipe/os";
import { Recipe } from "../recipe/recipe";
import { q, sh } from "../shell";
import { PackerStageArgs, isoBuildCommand, packerLog, packerNeeds, packerVarArgs } from "./packer";
import { PROVISIONING, buildValues, kickstartInput, osInput, packerFiles } from "./recipe-inputs";
import { StageComponent } from "./stage-command";

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
        : { kickstart: kickstartInput(recipe, "virtual", os, "qemu") };
    return {
        files: [...packerFiles(recipe), ...PROVISIONING, "ansible/roles/base", osInput(recipe, os)],
        values: { ...buildValues(recipe), stage: "base", ...from },
    };
}

/**
 * A disk image without a checksum is known by size and modification time: hashing gigabytes
 * on every preview would make preview slow. Give a checksum to be exact (and the same on
 * every machine: a machine without the file sees "absent", and its stage says so).
 */
function diskIdentity(file: string): string {
    const st = fs.statSync(file, { throwIfNoEntry: false });
    return st ? `size=${st.size} mtime=${st.mtimeMs}` : "absent";
}

const MiB = 1024 * 1024;

/**
 * Why an existing path is not a disk image (undefined when it is one, or does not exist on
 * this machine: a version stack also runs where the file is not; its stage checks then).
 * Known by its header: qcow2, VMDK, VHD, VDI, or a raw disk with an MBR or GPT.
 */
export function diskImageProblem(file: string): string | undefined {
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (!st) return undefined;
    if (!st.isFile()) return `${file} is not a regular file`;
    if (st.size < MiB) return `${file} is ${st.size} bytes, too small for a disk image`;
    const head = Buffer.alloc(1024);
    const fd = fs.openSync(file, "r");
    try {
        fs.readSync(fd, head, 0, head.length, 0);
    } finally {
        fs.closeSync(fd);
    }
    const text = head.toString("latin1");
    const known =
        text.startsWith("QFI\xfb") || // qcow2
        text.startsWith("KDMV") || text.startsWith("# Disk DescriptorFile") || // VMDK
        text.startsWith("conectix") || // dynamic VHD (a fixed one is a raw disk with a footer)
        text.slice(64, 68) === "\x7f\x10\xda\xbe" || // VDI
        (head[510] === 0x55 && head[511] === 0xaa) || // a raw disk with an MBR
        text.slice(512, 520) === "EFI PART"; // or with a GPT
    return known ? undefined : `${file} is not a disk image (no qcow2, VMDK, VHD or VDI header, no partition table)`;
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
export class BaseStage extends StageComponent {
    constructor(name: string, args: BaseStageArgs, opts?: pulumi.ComponentResourceOptions) {
        const { os, version } = args;
        const image = args.baseImage;
        super(
            "gold:stage:Base",
            name,
            {
                plan: args.plan,
                stack: args.stack,
                store: args.store,
                version,
                directory: `artifacts/${version}/${os.vm_name}/base`,
                os: os.vm_name,
                log: packerLog,
                create: (dir) => {
                    if (!image) return isoBuildCommand(dir, args, "virtual", "qemu", "base");
                    // The image is this machine's: another machine running the stack may lack it.
                    const missing = `config baseImages.${os.vm_name}.path: ${image.path} does not exist on this machine (or is not a file)`;
                    return `{ [ -f ${q(image.path)} ] || { echo ${q(missing)} >&2; exit 2; }; } && ` + sh([
                        "scripts/packer-build.sh", dir, "-only=qemu.base-disk", ...packerVarArgs(os.vm_name, args.siteOverrides),
                        `-var=source_disk=${image.path}`, `-var=source_disk_checksum=${image.checksum}`,
                        `-var=ssh_username=${image.sshUsername}`, `-var=qemuargs=${JSON.stringify(image.qemuargs)}`,
                    ]);
                },
                needs: packerNeeds(os, args.accelerator),
                timeout: "6h",
                environment: args.environment,
            },
            opts,
            // Named gold:build:PackerBuild before the stages had one folder: the alias keeps its state.
            "gold:build:PackerBuild",
        );
    }
}
