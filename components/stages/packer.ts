import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import type { ToolId } from "../doctor";
import type { IsoBuilder } from "../providers/provider";
import { OsVars, osFile } from "../recipe/os";
import { recipePaths, repoRoot } from "../recipe/paths";
import { SiteVars } from "../recipe/site";
import { sh } from "../shell";
import { installProxy } from "../isolation/guest";

/** What every Packer stage of one OS is given. */
export interface PackerStageArgs {
    /** The stack: artifacts/<version>/ is this stack's alone. */
    readonly stack: string;
    /** The OS (templates/os/<vm_name>.pkrvars.hcl). */
    readonly os: OsVars;
    /** The artifact store (config artifactStore). */
    readonly store: string;
    /** Image version: part of every artifact's name. */
    readonly version: string;
    /** Site variables set by the stack's config (checked), passed to Packer as -var. */
    readonly siteOverrides: Partial<SiteVars>;
    /** Environment of the build (parallel slots, Packer cache): not fingerprinted. */
    readonly environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** The site's QEMU accelerator in effect (kvm needs a usable /dev/kvm): not fingerprinted. */
    readonly accelerator: string;
}

/** What a Packer build with this builder needs on the machine that runs it (the doctor's checks). */
export function packerNeeds(os: OsVars, accelerator: string, builder: IsoBuilder = "qemu"): ToolId[] {
    const hypervisor: Record<IsoBuilder, ToolId[]> = {
        qemu: ["qemu", "qemu-img", ...(accelerator === "kvm" ? (["kvm"] as const) : [])],
        "virtualbox-iso": ["virtualbox"],
        "vmware-iso": ["vmware"],
    };
    return ["packer", "ansible", ...(os.os_major === 7 ? (["ansible-python27"] as const) : []), "build-key", ...hypervisor[builder]];
}

/** Where scripts/packer-build.sh writes Packer's output while it builds (build.log once stored). */
export const packerLog = (dir: string) => `${dir}.build.log`;

/** HCL text of a value for `-var name=value` (Packer parses non-strings as HCL). */
function hcl(value: unknown): string {
    if (typeof value === "string") return value;
    return JSON.stringify(value);
}

/**
 * The variable files and -var options every Packer stage of one OS shares. No version: a build
 * makes the same bytes for every version of its recipe (its fingerprint has none), so its files
 * name none either (templates/locals.pkr.hcl).
 */
export function packerVarArgs(osId: string, siteOverrides: Partial<SiteVars>): string[] {
    const site = recipePaths().siteFile;
    return [
        ...(fs.existsSync(site) ? [`-var-file=${site}`] : []),
        `-var-file=${osFile(osId, repoRoot)}`,
        "-var=version=",
        ...Object.entries(siteOverrides)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, v]) => `-var=${k}=${hcl(v)}`),
    ];
}

/**
 * An install from the ISO: the build key (made once per machine), the kickstart rendered into
 * <dir>.http for Packer's HTTP server with the same site variables as the fingerprinted one,
 * then the build of one source.
 */
export function isoBuildCommand(dir: string, args: PackerStageArgs, kickstartBuild: string, builder: IsoBuilder, source: "base" | "iso", extra: string[] = []): string {
    const proxy = installProxy(builder);
    return [
        sh(["scripts/gen-keys.sh"]) + " >&2",
        sh([
            "node_modules/.bin/ts-node", "--transpile-only", "scripts/ks.ts", "--build", kickstartBuild, "--os", args.os.vm_name,
            "--site-json", JSON.stringify(args.siteOverrides), ...(proxy ? ["--proxy", proxy] : []), "--out", `${dir}.http`,
        ]),
        sh(["scripts/packer-build.sh", dir, `-only=${builder}.${source}`, ...packerVarArgs(args.os.vm_name, args.siteOverrides), ...extra, `-var=http_directory=${dir}.http`]),
    ].join(" && ");
}
