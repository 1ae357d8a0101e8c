import * as pulumi from "@pulumi/pulumi";
import { GoldConfig } from "./config";
import { PlannedStage, plan } from "./fingerprint";
import { ProviderModule } from "./providers";
import { OsVars, hasKickstart } from "./recipe/os";
import { BaseStage, baseInputs } from "./stages/base";
import { ConversionStage, conversionInputs } from "./stages/conversion";
import { Builder, VariantStage, variantInputs } from "./stages/variant";

/** One provider's image of one OS: its stages, planned. */
export interface ImagePlan {
    readonly provider: ProviderModule;
    readonly builder: Builder;
    /** <vm_name>-<version>_<provider>: the seed's artifact name. */
    readonly artifactName: string;
    readonly variant: PlannedStage;
    readonly conversion: PlannedStage;
}

/** One OS of the stack: its base (when a provider builds from it) and its images. */
export interface OsPlan {
    readonly os: OsVars;
    readonly base?: PlannedStage;
    readonly images: ImagePlan[];
}

/**
 * Plans every stage of the stack (reads every OS file, renders every kickstart, fingerprints
 * every stage's inputs) before the first resource is registered: the engine starts building
 * as soon as a resource arrives, so a bad OS file or a missing repo_server must fail first.
 */
export function preflight(config: GoldConfig): OsPlan[] {
    const { recipe } = config;
    return config.oses.map((id) => {
        const os = recipe.os(id);
        const image = config.baseImages[id];
        if (!hasKickstart(os)) {
            if (!image) throw new Error(`config baseImages.${id} is required: ${id} has no kickstart, so its base starts from an existing disk image (path, checksum)`);
            const iso = config.providers.find((p) => config.builders[p.name] === "iso");
            if (iso) throw new Error(`config ${iso.name}.builder: 'iso' is not valid for ${id}, which has no kickstart; valid choices: variant`);
        }
        const needsBase = config.providers.some((p) => config.builders[p.name] === "variant");
        const base = needsBase ? plan(baseInputs(recipe, os, image), recipe) : undefined;
        const images = config.providers.map((provider): ImagePlan => {
            const builder = config.builders[provider.name];
            const artifactName = `${id}-${config.version}_${provider.name}`;
            const variant = plan(variantInputs(recipe, os, provider, builder, base?.fingerprint), recipe);
            return { provider, builder, artifactName, variant, conversion: plan(conversionInputs(os, provider, artifactName, variant.fingerprint), recipe) };
        });
        return { os, base, images };
    });
}

/** Per provider of one OS: the artifact fields, plus the published ids when publishing. */
export type OsImages = Record<string, pulumi.Output<unknown>>;

/**
 * One OS through every stage: base → variant per provider → conversion → publish. Stage
 * names carry the OS and provider: `<os>-base`, `<os>-<provider>`, `<os>-<provider>-convert`,
 * `<os>-<provider>-publish`.
 */
export function buildOs(config: GoldConfig, p: OsPlan): OsImages {
    const { os } = p;
    const id = os.vm_name;
    // Builds share this machine: slots across every Packer run (scripts/packer-build.sh).
    const environment = { GOLD_PARALLEL_BUILDS: String(config.parallelBuilds) };
    const common = { stack: config.stack, os, version: config.version, siteOverrides: config.siteOverrides, environment };
    const image = config.baseImages[id];
    const base = p.base ? new BaseStage(`${id}-base`, { ...common, plan: p.base, baseImage: image }) : undefined;

    const images: OsImages = {};
    for (const { provider, builder, artifactName, variant: variantPlan, conversion: conversionPlan } of p.images) {
        const variant = new VariantStage(`${id}-${provider.name}`, {
            ...common,
            provider,
            builder,
            plan: variantPlan,
            base,
            sshUsername: builder === "variant" && image ? image.sshUsername : undefined,
        });
        const directory = `artifacts/${config.version}/${id}/${provider.name}`;
        const conversion = new ConversionStage(`${id}-${provider.name}-convert`, {
            stack: config.stack,
            os,
            provider,
            plan: conversionPlan,
            variant,
            name: artifactName,
            version: config.version,
            directory,
        });
        const ids = config.publish
            ? provider.publish({
                  name: `${id}-${provider.name}-publish`,
                  os,
                  version: config.version,
                  settings: config.settings[provider.name],
                  site: config.recipe.site,
                  conversion,
                  artifactName,
                  seedPath: (ext) => `${directory}/${artifactName}.${ext}`,
                  secrets: config.secrets,
              })
            : {};
        images[provider.name] = pulumi.output({ artifact: conversion.artifact, sha256: conversion.sha256, ...ids });
    }
    return images;
}
