import * as pulumi from "@pulumi/pulumi";
import { GoldConfig } from "./config";
import type { ToolId } from "./doctor";
import { PlannedStage, plan } from "./fingerprint";
import { ProviderModule } from "./providers";
import { BootMode, bootName } from "./firstboot/mechanism";
import { bootModeOf } from "./providers/provider";
import { OsVars, hasKickstart } from "./recipe/os";
import { BaseStage, baseInputs } from "./stages/base";
import { ConversionStage, conversionInputs, conversionNeeds, seedName } from "./stages/conversion";
import { FirstBootStage, firstBootInputs, firstBootNeeds } from "./stages/first-boot";
import { packerNeeds } from "./stages/packer";
import { Builder, VariantMode, VariantStage, variantInputs, variantNeeds } from "./stages/variant";

/** One provider's image of one OS: its stages, planned. */
export interface ImagePlan {
    readonly provider: ProviderModule;
    readonly builder: Builder;
    /** How its variant applies the role (config variantMode). */
    readonly mode: VariantMode;
    /** <vm_name>-<version>_<provider>: the seed's name of what is published (the conversion's own has no version: convertedName). */
    readonly artifactName: string;
    readonly variant: PlannedStage;
    readonly conversion: PlannedStage;
    /** Its first-boot test (config firstBoot). */
    readonly test?: PlannedStage;
    /** The ways of its cloud its test boots (the provider's firstBootWays; undefined: its mechanism's all). */
    readonly ways?: readonly string[];
    /** How its cloud boots it (the provider's `boot` for this OS): what is published and what its test boots. */
    readonly boot: BootMode;
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
            const mode = config.variantModes[provider.name];
            const artifactName = seedName(os, provider, config.version);
            const variant = plan(variantInputs(recipe, os, provider, builder, mode, base?.fingerprint, providerVars(config, provider)), recipe);
            // The version is not an input of the conversion (nor of anything before it): a new
            // version of an unchanged recipe finds every stage in the store.
            const conversion = plan(conversionInputs(os, provider, variant.fingerprint, config.settings[provider.name]), recipe);
            const ways = firstBootWays(config, provider);
            const boot = bootModeOf(provider, config.settings[provider.name], os);
            const test = config.firstBoot ? plan(firstBootInputs(os, provider, conversion.fingerprint, ways, boot), recipe) : undefined;
            return { provider, builder, mode, artifactName, variant, conversion, test, ways, boot };
        });
        return { os, base, images };
    });
}

/**
 * The names of an OS's stages (their commands are `<name>-run`): `<os>-base`, `<os>-<provider>`,
 * `<os>-<provider>-convert`, `<os>-<provider>-test`; its publishers are `<os>-<provider>-publish`.
 */
export function stageNames(p: OsPlan): { base?: string; images: { provider: string; variant: string; conversion: string; test?: string; publish: string }[] } {
    const id = p.os.vm_name;
    return {
        base: p.base ? `${id}-base` : undefined,
        images: p.images.map((i) => {
            const name = `${id}-${i.provider.name}`;
            return { provider: i.provider.name, variant: name, conversion: `${name}-convert`, test: i.test ? `${name}-test` : undefined, publish: `${name}-publish` };
        }),
    };
}

/** Every stage's fingerprint: what the stack keeps in the artifact store. */
export function stageFingerprints(plans: OsPlan[]): string[] {
    return plans.flatMap((p) => [p.base, ...p.images.flatMap((i) => [i.variant, i.conversion, i.test])].filter((s): s is PlannedStage => s !== undefined).map((s) => s.fingerprint));
}

/** What building every stage of the stack needs on one machine (npm run doctor). */
export function stackNeeds(config: GoldConfig, plans: OsPlan[]): ToolId[] {
    const accelerator = config.recipe.site.accelerator;
    const needs = plans.flatMap((p) => [
        ...(p.base ? packerNeeds(p.os, accelerator) : []),
        ...p.images.flatMap((i) => [...variantNeeds(p.os, accelerator, i.provider, i.builder, i.mode), ...conversionNeeds(i.provider), ...(i.test ? firstBootNeeds(i.provider, i.boot) : [])]),
    ]);
    return [...new Set(needs)];
}

/** The ways of its cloud a provider's image must support, from its config. */
function firstBootWays(config: GoldConfig, provider: ProviderModule): readonly string[] | undefined {
    return provider.firstBootWays?.(config.settings[provider.name]);
}

/** A provider's build settings for its role, from its config. */
function providerVars(config: GoldConfig, provider: ProviderModule): Record<string, string> {
    return provider.buildVars?.(config.settings[provider.name]) ?? {};
}

/** Per provider of one OS: the artifact fields, plus the published ids when publishing. */
export type OsImages = Record<string, pulumi.Output<unknown>>;

/** One OS through every stage: base → variant per provider → conversion → test → publish (names: stageNames). */
export function buildOs(config: GoldConfig, p: OsPlan): OsImages {
    const { os } = p;
    const id = os.vm_name;
    // Builds share this machine: slots across every Packer run (scripts/packer-build.sh).
    const environment = { GOLD_PARALLEL_BUILDS: String(config.parallelBuilds) };
    const store = config.artifactStore;
    const common = { stack: config.stack, store, os, version: config.version, siteOverrides: config.siteOverrides, environment, accelerator: config.recipe.site.accelerator };
    const image = config.baseImages[id];
    const names = stageNames(p);
    const base = p.base ? new BaseStage(names.base!, { ...common, plan: p.base, baseImage: image }) : undefined;

    const images: OsImages = {};
    for (const [index, { provider, builder, mode, artifactName, variant: variantPlan, conversion: conversionPlan, test: testPlan, ways, boot }] of p.images.entries()) {
        const name = names.images[index];
        const variant = new VariantStage(name.variant, {
            ...common,
            provider,
            builder,
            mode,
            plan: variantPlan,
            base,
            sshUsername: builder === "variant" && image ? image.sshUsername : undefined,
            providerVars: providerVars(config, provider),
            buildMirrors: provider.buildMirrors?.(config.settings[provider.name]) ?? [],
        });
        const directory = `artifacts/${config.version}/${id}/${provider.name}`;
        const conversion = new ConversionStage(name.conversion, {
            stack: config.stack,
            store,
            os,
            provider,
            plan: conversionPlan,
            variant,
            version: config.version,
            directory,
        });
        // A publisher takes the artifact out of its test: a failed test publishes nothing.
        const test = testPlan
            ? new FirstBootStage(name.test!, { stack: config.stack, store, os, provider, version: config.version, plan: testPlan, conversion, directory, environment, ways, boot })
            : undefined;
        const tested = test ?? conversion;
        const ids = config.publish
            ? provider.publish({
                  name: name.publish,
                  os,
                  version: config.version,
                  settings: config.settings[provider.name],
                  site: config.recipe.site,
                  conversion,
                  stage: tested,
                  store: config.store,
                  artifactName,
                  directory,
                  seedPath: (ext) => `${directory}/${artifactName}.${ext}`,
                  secrets: config.secrets,
                  untested: config.untested,
                  boot,
              })
            : {};
        // A container test names the image it ran, which its publisher pushes.
        // A container test names the image it ran, which its publisher pushes; a machine's test
        // how it booted and the drivers its cloud needs that the kernel lacks (their flags are off).
        const firstBoot = test
            ? test.result.apply((r) => ({
                  login: r.login,
                  checks: r.checks,
                  seconds: r.seconds,
                  ...(r.image ? { image: (r.image as { id: string }).id } : {}),
                  ...(r.driversMissing ? { driversMissing: r.driversMissing } : {}),
              }))
            : config.untested
            ? "skipped-unsafe"
            : "off";
        const booted = provider.firstBoot.kind === "vm" ? { boot: bootName(boot) } : {};
        images[provider.name] = pulumi.output({ artifact: tested.artifact, sha256: tested.sha256, ...booted, firstBoot, ...ids });
    }
    return images;
}
