// The stack config, read and checked as one object before any resource is registered: the
// typed keys of Pulumi.yaml, `site`, `baseImages`, and one object per provider (its fields
// are declared in its module). Every error names the key, the value and what is valid.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { z } from "zod";
import { ProviderModule, providerNames, providers } from "../providers";
import { checked, choice, object, text, whole } from "../recipe/fields";
import { listOses } from "../recipe/os";
import { repoRoot } from "../recipe/paths";
import { Recipe } from "../recipe/recipe";
import { SITE_FIELDS, SiteVars } from "../recipe/site";
import { type BaseImage, diskImageProblem } from "../stages/base";
import { STORE_FORMS, StoreSpec, parseStoreUrl, storeUrlProblem } from "../store";
import { type Builder, VARIANT_MODES, type VariantMode } from "../stages/variant";

export type { BaseImage } from "../stages/base";
export type { Builder, VariantMode } from "../stages/variant";

/** The stack's settings, checked before any resource is created. */
export interface GoldConfig {
    readonly stack: string;
    readonly version: string;
    readonly oses: string[];
    /** The selected providers' modules, in the registry's order. */
    readonly providers: ProviderModule[];
    readonly publish: boolean;
    /** Every image is booted as its cloud would and checked before it is published. */
    readonly firstBoot: boolean;
    /** Published without a first-boot test (config firstBoot "skip-unsafe"): every image is marked gold-untested. */
    readonly untested: boolean;
    readonly parallelBuilds: number;
    /** The artifact store (config artifactStore), as configured and parsed. */
    readonly artifactStore: string;
    readonly store: StoreSpec;
    /** The recipe: OS files, and the site variables in effect (with this version). */
    readonly recipe: Recipe;
    /** Only the overrides from config `site`, passed to Packer as -var. */
    readonly siteOverrides: Partial<SiteVars>;
    /** Per provider: "variant" (from the OS's base disk) or "iso" (the seed's full ISO build). */
    readonly builders: Readonly<Record<string, Builder>>;
    /** Per provider: how its variant is made, "chroot" or "boot" (config <provider>.variantMode, else variantMode). */
    readonly variantModes: Readonly<Record<string, VariantMode>>;
    readonly baseImages: Readonly<Record<string, BaseImage>>;
    /** Per provider: its settings (its module's fields, checked, with defaults). */
    readonly settings: Readonly<Record<string, Record<string, unknown>>>;
    /** Secret config that publishers read (declared by their modules), as secret outputs. */
    readonly secrets: Readonly<Record<string, pulumi.Output<string> | undefined>>;
}

// semver.org's regular expression (2.0.0): "1.4", "v1.4.0", "01.4.0", "1.0.0-01" are refused.
const SEMVER =
    /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

interface Declared {
    type: string;
    default?: unknown;
    secret?: boolean;
}

/**
 * Defaults come from Pulumi.yaml's typed config block, the one place they are written:
 * the CLI applies them, and so does this loader (mocks and tests do not run the CLI).
 */
export function declaredConfig(root: string = repoRoot): Record<string, Declared> {
    const project = parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
    return project.config ?? {};
}

/** config firstBoot: test every image; skip the test (nothing published); publish untested, marked. */
const FIRST_BOOT = ["true", "false", "skip-unsafe"] as const;

/** Set by the program itself: one version per stack, the rest per stage. */
const OWNED_SITE = ["version"];

/** A non-empty list of some of `valid`, each at most once. */
function choices(valid: string[], rule: string) {
    return z
        .array(choice(valid as [string, ...string[]]), { error: rule })
        .min(1, { error: `valid choices: ${valid.join(", ")}` })
        .refine((l) => new Set(l).size === l.length, { error: `${rule}, each at most once` });
}

/** The whole config's schema, for these OS ids and providers. */
function configSchema(decl: Record<string, Declared>, oses: string[], registry: ProviderModule[], stackOses: string[]) {
    const names = registry.map((p) => p.name) as [string, ...string[]];
    const withDefault = <T extends z.ZodType>(key: string, schema: T) => (decl[key] && "default" in decl[key] ? schema.default(decl[key].default as never) : schema.optional());
    const qemuargsRule = 'a list of at most 16 argument lists of at most 8 words, e.g. [["-kernel", "/path/vmlinuz"]]';
    const baseImage = object(
        {
            path: text(/^[^\0-\x1f]+$/, "the path of a disk image (qcow2, raw, VMDK, VHD)", 4096).refine((p) => !diskImageProblem(p), {
                error: (iss) => `the path of a disk image (qcow2, raw, VMDK, VHD): ${diskImageProblem(String(iss.input))}`,
            }),
            checksum: text(/^(none|sha256:[0-9a-f]{64})$/, '"none" or "sha256:<64 hex>"').default("none"),
            sshUsername: text(/^[a-z_][a-z0-9_-]*$/, "a user name", 32).default("root"),
            qemuargs: z
                .array(z.array(text(/^[^\0-\x1f]*$/, qemuargsRule, 1024), { error: qemuargsRule }).min(1, { error: qemuargsRule }).max(8, { error: qemuargsRule }), { error: qemuargsRule })
                .max(16, { error: qemuargsRule })
                .default([]),
        },
        "an object with path, checksum, sshUsername, qemuargs",
    );
    const site = Object.fromEntries(Object.entries(SITE_FIELDS).filter(([k]) => !OWNED_SITE.includes(k)));
    return object({
        version: withDefault("version", z.string({ error: "a string" })),
        oses: withDefault("oses", choices(oses, "a list of OS ids")),
        providers: withDefault("providers", choices(names, "a list of provider names")),
        publish: withDefault("publish", z.boolean({ error: "true or false" })),
        // A string key (Pulumi's typed config has no union): true, false, or skip-unsafe.
        firstBoot: withDefault("firstBoot", z.preprocess((v) => (typeof v === "boolean" ? String(v) : v), choice(FIRST_BOOT))),
        artifactStore: withDefault(
            "artifactStore",
            z.string({ error: "a string" }).refine((u) => !storeUrlProblem(u), { error: (iss) => `${storeUrlProblem(String(iss.input))}; valid forms: ${STORE_FORMS}` }),
        ),
        variantMode: withDefault("variantMode", choice(VARIANT_MODES)),
        parallelBuilds: withDefault("parallelBuilds", whole(0, 64, "a whole number: 0 (half the cores) or 1 to 64")),
        site: object(site, "an object of site variables (pulumi config set --path site.<name> <value>)").partial().default({}),
        baseImages: object(Object.fromEntries(stackOses.map((id) => [id, baseImage.optional()])), "an object of OS ids").default({}),
        ...Object.fromEntries(registry.flatMap((p) => (p.secrets ?? []).map((s) => [s, z.string({ error: "a string" }).optional()]))),
        ...Object.fromEntries(
            registry.map((p) => [
                p.name,
                object({ ...p.fields, builder: choice(["variant", "iso"]).default("variant"), variantMode: choice(VARIANT_MODES).optional() }, `an object (pulumi config set --path ${p.name}.<field> <value>)`).prefault({}),
            ]),
        ),
    });
}

/** This project's config as values: typed string keys as given, the rest parsed as JSON. */
function rawConfig(project: string, decl: Record<string, Declared>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [full, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (!full.startsWith(`${project}:`)) continue;
        const key = full.slice(project.length + 1);
        if (decl[key]?.type === "string") {
            out[key] = value;
            continue;
        }
        try {
            out[key] = JSON.parse(value);
        } catch {
            out[key] = value;
        }
    }
    return out;
}

export function loadConfig(cfg = new pulumi.Config(), stack = pulumi.getStack()): GoldConfig {
    const decl = declaredConfig();
    const registry = [...providers().values()];
    const raw = rawConfig(cfg.name, decl);
    const osIds = listOses();
    // baseImages is keyed by the stack's OSes: read those first (as far as they are valid).
    const stackOses = Array.isArray(raw.oses) ? raw.oses.filter((o): o is string => typeof o === "string" && osIds.includes(o)) : ((decl.oses?.default as string[]) ?? []);
    for (const owned of OWNED_SITE) {
        if (raw.site && typeof raw.site === "object" && owned in raw.site) throw new Error(`config site.${owned}: is set by the program, not by config`);
    }
    const c = checked(configSchema(decl, osIds, registry, stackOses), raw, "config ") as Record<string, any>;

    const version: string = c.version || stack;
    if (!SEMVER.test(version)) {
        throw new Error(`config version: '${version}' is not a semantic version (e.g. 1.4.0); set it, or name the stack after the version`);
    }
    if (version.length > 64) throw new Error(`config version: '${version.slice(0, 70)}…' is too long (${version.length} characters): at most 64, it names directories and images`);
    const siteOverrides = c.site as Partial<SiteVars>;
    const recipe = new Recipe({ providers: providerNames(), siteOverrides: { ...siteOverrides, version } });
    const selected = registry.filter((p) => (c.providers as string[]).includes(p.name));
    const store = parseStoreUrl(c.artifactStore);
    if (c.publish && c.firstBoot === "false") {
        throw new Error(
            `config firstBoot: 'false' is not valid with publish true: nothing would have booted the images it publishes; valid choices: true (each image passes its cloud's first boot before it is published), skip-unsafe (published untested, each marked gold-untested)`,
        );
    }
    for (const p of selected) {
        const publishing = c.publish as boolean;
        if (publishing) {
            for (const field of p.requiredToPublish) {
                if (c[p.name][field] === undefined) {
                    throw new Error(`config ${p.name}.${field} is required when publish is true and the provider is selected (pulumi config set --path ${p.name}.${field} <value>)`);
                }
            }
        }
        p.check?.(c[p.name], { version, publishing, oses: stackOses.map((id) => recipe.os(id)), store });
    }

    return {
        stack,
        version,
        oses: c.oses,
        providers: selected,
        publish: c.publish,
        firstBoot: c.firstBoot === "true",
        untested: c.publish && c.firstBoot !== "true",
        parallelBuilds: c.parallelBuilds || Math.max(1, Math.floor(os.cpus().length / 2)),
        artifactStore: c.artifactStore,
        store,
        recipe,
        siteOverrides,
        builders: Object.fromEntries(registry.map((p) => [p.name, c[p.name].builder as Builder])),
        variantModes: Object.fromEntries(registry.map((p) => [p.name, (c[p.name].variantMode ?? c.variantMode) as VariantMode])),
        baseImages: Object.fromEntries(
            Object.entries(c.baseImages as Record<string, BaseImage | undefined>)
                .filter((e): e is [string, BaseImage] => e[1] !== undefined)
                .map(([id, image]) => [id, { ...image, path: path.resolve(repoRoot, image.path) }]),
        ),
        settings: Object.fromEntries(registry.map((p) => [p.name, omitBuilder(c[p.name])])),
        secrets: Object.fromEntries(selected.flatMap((p) => (p.secrets ?? []).map((s) => [s, cfg.getSecret(s)]))),
    };
}

function omitBuilder(settings: Record<string, unknown>): Record<string, unknown> {
    const { builder: _builder, variantMode: _variantMode, ...rest } = settings;
    return rest;
}
