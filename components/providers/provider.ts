// What a provider (the seed's "build", e.g. a cloud) is: everything that is that provider's is
// declared in its own folder, components/providers/<name>/index.ts, as one ProviderModule,
// next to its publisher component; its image is made by the Ansible role of the same name
// (ansible/roles/<name>/), and http/builds/virtual/<name>.yaml optionally changes its
// kickstart. Nothing else in the program names a provider: the registry (./index.ts) finds
// the folders, and every stage, check and output iterates it.
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { BIOS, type BootMode, type FirstBoot } from "../firstboot/mechanism";
import type { OsVars } from "../recipe/os";
import type { SiteVars } from "../recipe/site";
import type { StoredStage } from "../stages/stage-command";
import type { StoreSpec } from "../store";

/** The Packer builders of the seed's full ISO build, one source each in templates/build.pkr.hcl. */
export const ISO_BUILDERS = ["qemu", "virtualbox-iso", "vmware-iso"] as const;
export type IsoBuilder = (typeof ISO_BUILDERS)[number];

/** The artifact formats scripts/convert.sh makes (see its header). */
export const FORMATS = ["vhd", "vhd-fixed", "raw-tar", "qcow2", "rootfs", "ova", "box"] as const;
export type ArtifactFormat = (typeof FORMATS)[number];

// How a machine boots (firmware, Secure Boot, TPM) is the first-boot mechanism's concept; a
// provider answers it per OS with `boot`.
export { BIOS, type BootMode } from "../firstboot/mechanism";

/** What a publisher is given for one OS's image of its provider. */
export interface PublishArgs<S> {
    /** The publisher component's name: `<os>-<provider>-publish`. */
    readonly name: string;
    readonly os: OsVars;
    readonly version: string;
    /** This provider's settings from config, checked and with defaults. */
    readonly settings: S;
    /** Site variables in effect (e.g. namespace). */
    readonly site: SiteVars;
    /** The conversion (its result's other fields, e.g. the docker build context). */
    readonly conversion: StoredStage;
    /**
     * The stage whose artifact is published: its first-boot test (or the conversion without
     * one). Its artifact is in the store, found by its fingerprint; never a path of this machine.
     */
    readonly stage: StoredStage;
    /** The artifact store (config artifactStore): where the stage's artifact is. */
    readonly store: StoreSpec;
    /** The seed's artifact name, `<vm_name>-<version>_<provider>`. */
    readonly artifactName: string;
    /** This image's directory of the seed's layout: artifacts/<version>/<os>/<provider>. */
    readonly directory: string;
    /** The seed's path of this artifact with an extension: artifacts/<version>/<os>/<provider>/<name>.<ext>. */
    readonly seedPath: (ext: string) => string;
    /** Secret config the publisher may need (e.g. a registry password). */
    readonly secrets: Readonly<Record<string, pulumi.Output<string> | undefined>>;
    /**
     * No first-boot test passed for it (config firstBoot "skip-unsafe"): the published image
     * carries the mark UNTESTED_MARK (publish/names.ts) in its cloud's own way (tag, label, property), for users
     * and policies to see.
     */
    readonly untested: boolean;
    /**
     * How its cloud boots it (this module's `boot` for the OS): what its first-boot test booted,
     * and so the only boot flags (TPM, Trusted Launch) the publisher may declare.
     */
    readonly boot: BootMode;
}

/** Context of the checks that look beyond a provider's own settings. */
export interface CheckContext {
    readonly version: string;
    /** Whether this stack publishes this provider. */
    readonly publishing: boolean;
    /** The stack's OSes. */
    readonly oses: readonly OsVars[];
    /** The artifact store (config artifactStore): a publisher may read from it directly. */
    readonly store: StoreSpec;
}

export interface ProviderModule<S = Record<string, unknown>> {
    /** The provider's name: its folder, its role, its config key and its `providers` entry. */
    readonly name: string;
    /** What the target is called in messages and docs. */
    readonly title: string;
    /**
     * Config `<name>`: its fields with what each must be and their defaults (zod). The registry
     * adds `builder`; unknown fields are refused with the known ones listed.
     */
    readonly fields: z.core.$ZodLooseShape;
    /** Secret top-level config keys its publisher reads (declared `secret: true` in Pulumi.yaml). */
    readonly secrets?: readonly string[];
    /** Fields that must be set when this provider is published. */
    readonly requiredToPublish: readonly string[];
    /** Checks across fields or with the version; throws an Error naming the config key. */
    readonly check?: (settings: S, ctx: CheckContext) => void;
    /** The seed's Packer builder for a full ISO build of this provider (`builder: iso`). */
    readonly isoBuilder: IsoBuilder;
    /** What the conversion makes of the provider's image (scripts/convert.sh FORMAT). */
    readonly format: ArtifactFormat;
    /** Settings its role reads (Ansible's provider_vars), from its config: part of its variant's fingerprint. */
    readonly buildVars?: (settings: S) => Record<string, string>;
    /**
     * URLs its role fetches from besides the OS file's mirrors: on its build's allow list
     * (components/isolation). Not fingerprinted: they decide where a build may go, not what it makes.
     */
    readonly buildMirrors?: (settings: S) => readonly string[];
    /** Repository files (besides its role) that its variant reads. */
    readonly variantFiles?: readonly string[];
    /** Repository files (besides scripts/convert.sh) that its conversion reads. */
    readonly conversionFiles?: readonly string[];
    /**
     * Options of scripts/convert.sh from its config and the OS: what its artifact declares
     * (e.g. the OVF's firmware). Data, never code: the script checks each value; they are part
     * of its conversion's fingerprint.
     */
    readonly conversionOptions?: (settings: S, os: OsVars) => readonly string[];
    /**
     * Its first-boot test (its first-boot.ts): how its cloud gives a new machine the user's key,
     * played for the test, and its contract, checked from inside once logged in.
     */
    readonly firstBoot: FirstBoot;
    /** The ways of its cloud (the mechanism's `ways`) the image must support, from its config: each is booted. */
    readonly firstBootWays?: (settings: S) => readonly string[];
    /**
     * How its cloud boots this OS's image, from its config and the OS file's facts (firmware,
     * secure_boot): one answer read by the publisher and the first-boot test. Absent: BIOS.
     * Its config checks (`check`) refuse a setting an OS of the stack cannot boot, so that no
     * answer fails bootModeOf once resources are being registered.
     */
    readonly boot?: (settings: S, os: OsVars) => BootMode;
    /** The keys the publisher adds to `images[os][provider]` (besides artifact and sha256). */
    readonly outputs: readonly string[];
    /** Creates the publisher component; returns the `outputs` values. */
    readonly publish: (args: PublishArgs<S>) => Record<string, pulumi.Input<unknown>>;
}

/** The checked settings that a provider's fields make. */
export type Settings<F extends z.core.$ZodLooseShape> = z.infer<z.ZodObject<F>>;

/** Declares a provider module, typing its settings from its fields. */
export function defineProvider<F extends z.core.$ZodLooseShape>(
    module: Omit<ProviderModule<Settings<F>>, "fields"> & { readonly fields: F },
): ProviderModule<Settings<F>> {
    return module;
}

/** How a provider's cloud boots an OS's image with the provider's default settings (its fields' defaults). */
export function defaultBootMode(module: ProviderModule, os: OsVars): BootMode {
    return bootModeOf(module, z.object(module.fields).parse({}), os);
}

/** How a provider's cloud boots an OS's image (BIOS when the provider says nothing). */
export function bootModeOf<S>(module: ProviderModule<S>, settings: S, os: OsVars): BootMode {
    const mode = module.boot?.(settings, os) ?? BIOS;
    if (mode.firmware === "bios" && (mode.secureBoot || mode.tpm)) throw new Error(`${module.name}: Secure Boot and a TPM need UEFI firmware`);
    if (!os.firmware.includes(mode.firmware)) throw new Error(`${module.name}: ${os.vm_name}'s disk does not boot with ${mode.firmware} (its firmware: ${os.firmware.join(", ")})`);
    if (mode.secureBoot && !os.secure_boot) throw new Error(`${module.name}: ${os.vm_name} does not boot under Secure Boot (its OS file's secure_boot is false)`);
    return mode;
}
