import * as pulumi from "@pulumi/pulumi";
import { Conversion } from "./build/conversion";
import { ImageVariant } from "./build/image-variant";
import { PackerBuild } from "./build/packer-build";
import { GoldConfig } from "./config";
import { PublishedIds, publish } from "./publish/publish";
import { fingerprint } from "./fingerprint";
import { hasKickstart, loadOs } from "./recipe/os";
import { baseInputs, variantInputs } from "./stages/inputs";

/** Per provider of one OS: the artifact fields, plus the published ids when publishing. */
export type OsImages = Record<string, pulumi.Output<unknown>>;

/**
 * One OS through every stage: base (when a provider builds from it) → variant per provider →
 * conversion → publish. Stage names carry the OS and provider: `<os>-base`, `<os>-<provider>`,
 * `<os>-<provider>-convert`, `<os>-<provider>-publish`.
 */
export function buildOs(config: GoldConfig, osId: string, dockerPassword?: pulumi.Input<string>): OsImages {
    const os = loadOs(osId);
    // Builds share this machine: slots across every Packer run (scripts/packer-build.sh).
    const environment = { GOLD_PARALLEL_BUILDS: String(config.parallelBuilds) };
    const common = { os, version: config.version, site: config.site, siteOverrides: config.siteOverrides, environment };
    const image = config.baseImages[osId];
    const needsBase = config.providers.some((p) => config.builders[p] === "variant");
    const base = needsBase ? new PackerBuild(`${osId}-base`, { ...common, baseImage: image }) : undefined;

    const images: OsImages = {};
    for (const provider of config.providers) {
        const builder = config.builders[provider];
        const variant = new ImageVariant(`${osId}-${provider}`, {
            ...common,
            provider,
            builder,
            base,
            sshUsername: builder === "variant" && image ? image.sshUsername : undefined,
        });
        const artifactName = `${osId}-${config.version}_${provider}`;
        const conversion = new Conversion(`${osId}-${provider}-convert`, {
            provider,
            variant,
            name: artifactName,
            version: config.version,
            directory: `artifacts/${config.version}/${osId}/${provider}`,
        });
        const ids: PublishedIds = config.publish
            ? publish(`${osId}-${provider}-publish`, { config, os, provider, conversion, artifactName, dockerPassword })
            : {};
        images[provider] = pulumi.output({ artifact: conversion.artifact, sha256: conversion.sha256, ...ids });
    }
    return images;
}

/**
 * Reads every OS file and renders every kickstart the stack needs, before the first resource
 * is registered: the engine starts building as soon as a resource arrives, so a bad OS file or
 * a missing repo_server must fail the program before that.
 */
export function preflight(config: GoldConfig): void {
    for (const osId of config.oses) {
        const ctx = { os: loadOs(osId), site: config.site };
        if (!hasKickstart(ctx.os)) {
            if (!config.baseImages[osId]) {
                throw new Error(`config baseImages.${osId} is required: ${osId} has no kickstart, so its base starts from an existing disk image (path, checksum)`);
            }
            const iso = config.providers.filter((p) => config.builders[p] === "iso");
            if (iso.length) throw new Error(`config ${iso[0]}.builder: 'iso' is not valid for ${osId}, which has no kickstart; valid choices: variant`);
        }
        const base = fingerprint(baseInputs(ctx, config.baseImages[osId]));
        for (const p of config.providers) fingerprint(variantInputs(ctx, p, config.builders[p], base));
    }
}
