import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { badChoice } from "./recipe/choices";
import { HclValue } from "./recipe/hcl";
import { listOses } from "./recipe/os";
import { repoRoot } from "./recipe/paths";
import { PROVIDER_NAMES, ProviderName, isProvider } from "./recipe/providers";
import { SiteVars, loadSite } from "./recipe/site";

export type Builder = "variant" | "iso";

export interface AwsSettings {
    readonly region?: string;
    readonly bucket?: string;
    readonly roleName: string;
    readonly createRole: boolean;
    readonly copyRegions: string[];
    readonly shareWithAccounts: string[];
    readonly bootMode: "legacy-bios" | "uefi" | "uefi-preference";
}

export interface AzureSettings {
    readonly resourceGroup?: string;
    readonly location?: string;
    readonly storageAccount?: string;
    readonly container: string;
    readonly gallery?: string;
    readonly hyperVGeneration: "V1" | "V2";
}

export interface GcpSettings {
    readonly project?: string;
    readonly bucket?: string;
    readonly family?: string;
    readonly guestOsFeatures: string[];
}

export interface OpenstackSettings {
    readonly visibility: "private" | "public" | "shared" | "community";
    readonly properties: Record<string, string>;
}

export interface DockerSettings {
    readonly repository?: string;
    /** Registry server to push to; absent: the image stays in the local Docker engine. */
    readonly registry?: string;
    readonly username?: string;
}

export interface VirtualboxSettings {
    /** Vagrant box name; default <namespace>/<OS>. */
    readonly boxName?: string;
    /** Base URL of the boxes written into the catalog; default file:// of the artifacts. */
    readonly catalogUrl?: string;
}

export interface ProviderSettings {
    readonly aws: AwsSettings;
    readonly azure: AzureSettings;
    readonly gcp: GcpSettings;
    readonly openstack: OpenstackSettings;
    readonly docker: DockerSettings;
    readonly virtualbox: VirtualboxSettings;
    readonly vmware: Record<string, never>;
}

/** An existing disk image that an OS's base starts from instead of its ISO. */
export interface BaseImage {
    readonly path: string;
    /** "sha256:<hex>" or "none". */
    readonly checksum: string;
    readonly sshUsername: string;
    /** Extra QEMU arguments, e.g. -kernel/-initrd/-append for a disk without a bootloader. */
    readonly qemuargs: string[][];
}

/** The stack's settings, checked before any resource is created. */
export interface GoldConfig {
    readonly stack: string;
    readonly version: string;
    readonly oses: string[];
    readonly providers: ProviderName[];
    readonly publish: boolean;
    readonly parallelBuilds: number;
    /** Site variables in effect: Packer defaults, templates/site.pkrvars.hcl, then config `site`. */
    readonly site: SiteVars;
    /** Only the overrides from config `site`, passed to Packer as -var. */
    readonly siteOverrides: Record<string, HclValue>;
    /** Per provider: "variant" (from the OS's base disk) or "iso" (the seed's full ISO build). */
    readonly builders: Record<ProviderName, Builder>;
    readonly baseImages: Record<string, BaseImage>;
    readonly settings: ProviderSettings;
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

interface Declared {
    type: string;
    default?: unknown;
}

/**
 * Defaults come from Pulumi.yaml's typed config block, the one place they are written:
 * the CLI applies them, and so does this loader (mocks and tests do not run the CLI).
 */
export function declaredConfig(root: string = repoRoot): Record<string, Declared> {
    const project = parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
    return project.config ?? {};
}

const TYPED_KEYS: Record<string, string> = { string: "a string", integer: "a whole number", boolean: "true or false", array: "a list" };

/** Reads a key declared in Pulumi.yaml and checks its type. */
function readDeclared(cfg: pulumi.Config, key: string, decl: Declared): unknown {
    const raw = cfg.get(key);
    if (raw === undefined) return decl.default;
    if (decl.type === "string") return raw;
    let value: unknown;
    try {
        value = JSON.parse(raw);
    } catch {
        value = undefined;
    }
    const ok =
        (decl.type === "boolean" && typeof value === "boolean") ||
        (decl.type === "integer" && Number.isInteger(value)) ||
        (decl.type === "array" && Array.isArray(value));
    if (!ok) throw new Error(`config ${key}: ${JSON.stringify(raw)} is not valid; it must be ${TYPED_KEYS[decl.type]}`);
    return value;
}

/** Reads an object key (Pulumi.yaml cannot type objects) and refuses keys it does not know. */
function readObject(cfg: pulumi.Config, key: string, known: readonly string[]): Record<string, unknown> {
    const raw = cfg.get(key);
    if (raw === undefined) return {};
    let value: unknown;
    try {
        value = JSON.parse(raw);
    } catch {
        value = undefined;
    }
    if (!value || typeof value !== "object" || Array.isArray(value)) {
        throw new Error(`config ${key}: ${JSON.stringify(raw)} is not valid; it must be an object (pulumi config set --path ${key}.<name> <value>)`);
    }
    for (const k of Object.keys(value)) if (!known.includes(k)) throw badChoice(`config ${key}: unknown key`, k, known);
    return value as Record<string, unknown>;
}

/** Typed field readers: each error names the key, the value and what is valid. */
class Fields {
    constructor(
        private readonly prefix: string,
        private readonly obj: Record<string, unknown>,
    ) {}

    private bad(key: string, what: string): Error {
        return new Error(`config ${this.prefix}.${key}: ${JSON.stringify(this.obj[key])} is not valid; it must be ${what}`);
    }

    string(key: string, pattern?: RegExp, what = "a string"): string | undefined {
        const v = this.obj[key];
        if (v === undefined) return undefined;
        if (typeof v !== "string" || v === "" || (pattern && !pattern.test(v))) throw this.bad(key, what);
        return v;
    }

    choice<T extends string>(key: string, choices: readonly T[], fallback: T): T {
        const v = this.obj[key];
        if (v === undefined) return fallback;
        if (typeof v !== "string" || !choices.includes(v as T)) throw badChoice(`config ${this.prefix}.${key}`, v, choices);
        return v as T;
    }

    boolean(key: string, fallback: boolean): boolean {
        const v = this.obj[key];
        if (v === undefined) return fallback;
        if (typeof v !== "boolean") throw this.bad(key, "true or false");
        return v;
    }

    strings(key: string, pattern: RegExp, what: string): string[] {
        const v = this.obj[key];
        if (v === undefined) return [];
        if (!Array.isArray(v) || !v.every((x) => typeof x === "string" && pattern.test(x))) throw this.bad(key, `a list of ${what}`);
        return v;
    }

    stringMap(key: string): Record<string, string> {
        const v = this.obj[key];
        if (v === undefined) return {};
        if (!v || typeof v !== "object" || Array.isArray(v) || !Object.values(v).every((x) => typeof x === "string")) {
            throw this.bad(key, "an object of string values");
        }
        return v as Record<string, string>;
    }

    require(key: string, reason: string): void {
        if (this.obj[key] === undefined) throw new Error(`config ${this.prefix}.${key} is required ${reason} (pulumi config set --path ${this.prefix}.${key} <value>)`);
    }
}

const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const AWS_ACCOUNT = /^\d{12}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const GCP_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

const KEYS = {
    aws: ["region", "bucket", "roleName", "createRole", "copyRegions", "shareWithAccounts", "bootMode", "builder"],
    azure: ["resourceGroup", "location", "storageAccount", "container", "gallery", "hyperVGeneration", "builder"],
    gcp: ["project", "bucket", "family", "guestOsFeatures", "builder"],
    openstack: ["visibility", "properties", "builder"],
    docker: ["repository", "registry", "username", "builder"],
    virtualbox: ["boxName", "catalogUrl", "builder"],
    vmware: ["builder"],
} as const satisfies Record<ProviderName, readonly string[]>;

function providerSettings(cfg: pulumi.Config, publish: boolean, selected: ProviderName[]) {
    const objs = Object.fromEntries(PROVIDER_NAMES.map((p) => [p, readObject(cfg, p, KEYS[p])])) as Record<ProviderName, Record<string, unknown>>;
    const f = Object.fromEntries(PROVIDER_NAMES.map((p) => [p, new Fields(p, objs[p])])) as Record<ProviderName, Fields>;
    const needed = (p: ProviderName) => publish && selected.includes(p);
    const why = "when publish is true and the provider is selected";
    if (needed("aws")) ["region", "bucket"].forEach((k) => f.aws.require(k, why));
    if (needed("azure")) ["resourceGroup", "location", "storageAccount"].forEach((k) => f.azure.require(k, why));
    if (needed("gcp")) ["project", "bucket"].forEach((k) => f.gcp.require(k, why));
    if (needed("docker")) f.docker.require("repository", why);

    const settings: ProviderSettings = {
        aws: {
            region: f.aws.string("region", AWS_REGION, "an AWS region such as eu-west-1"),
            bucket: f.aws.string("bucket", /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an S3 bucket name"),
            roleName: f.aws.string("roleName", NAME, "an IAM role name") ?? "vmimport",
            createRole: f.aws.boolean("createRole", false),
            copyRegions: f.aws.strings("copyRegions", AWS_REGION, "AWS regions"),
            shareWithAccounts: f.aws.strings("shareWithAccounts", AWS_ACCOUNT, "12-digit AWS account ids"),
            bootMode: f.aws.choice("bootMode", ["legacy-bios", "uefi", "uefi-preference"] as const, "legacy-bios"),
        },
        azure: {
            resourceGroup: f.azure.string("resourceGroup", NAME, "a resource group name"),
            location: f.azure.string("location", /^[a-z0-9]+$/, "an Azure location such as westeurope"),
            storageAccount: f.azure.string("storageAccount", /^[a-z0-9]{3,24}$/, "3-24 lowercase letters and digits"),
            container: f.azure.string("container", /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, "a blob container name") ?? "images",
            gallery: f.azure.string("gallery", /^[A-Za-z0-9][A-Za-z0-9._]*$/, "a gallery name (letters, digits, '.', '_')"),
            hyperVGeneration: f.azure.choice("hyperVGeneration", ["V1", "V2"] as const, "V1"),
        },
        gcp: {
            project: f.gcp.string("project", /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "a GCP project id"),
            bucket: f.gcp.string("bucket", /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/, "a GCS bucket name"),
            family: f.gcp.string("family", GCP_NAME, "lowercase letters, digits and '-', at most 63"),
            guestOsFeatures: f.gcp.strings("guestOsFeatures", /^[A-Z_]+$/, "feature names such as VIRTIO_SCSI_MULTIQUEUE"),
        },
        openstack: {
            visibility: f.openstack.choice("visibility", ["private", "public", "shared", "community"] as const, "private"),
            properties: f.openstack.stringMap("properties"),
        },
        docker: {
            repository: f.docker.string("repository", /^[a-z0-9]+([._/-][a-z0-9]+)*$/, "a lowercase repository name"),
            registry: f.docker.string("registry", /^[A-Za-z0-9.-]+(:\d+)?$/, "a registry host[:port]"),
            username: f.docker.string("username"),
        },
        virtualbox: {
            boxName: f.virtualbox.string("boxName", /^[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+$/, "<namespace>/<name>"),
            catalogUrl: f.virtualbox.string("catalogUrl", /^(https?|file):\/\/\S+$/, "an http(s):// or file:// URL"),
        },
        vmware: {},
    };
    const builders = Object.fromEntries(PROVIDER_NAMES.map((p) => [p, f[p].choice("builder", ["variant", "iso"] as const, "variant")])) as Record<ProviderName, Builder>;
    return { settings, builders };
}

function baseImages(cfg: pulumi.Config, oses: string[]): Record<string, BaseImage> {
    const obj = readObject(cfg, "baseImages", oses);
    const out: Record<string, BaseImage> = {};
    for (const [id, value] of Object.entries(obj)) {
        if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error(`config baseImages.${id}: must be an object with path, checksum`);
        const keys = ["path", "checksum", "sshUsername", "qemuargs"];
        for (const k of Object.keys(value)) if (!keys.includes(k)) throw badChoice(`config baseImages.${id}: unknown key`, k, keys);
        const f = new Fields(`baseImages.${id}`, value as Record<string, unknown>);
        f.require("path", "for a base from an existing disk image");
        const qemuargs = (value as Record<string, unknown>).qemuargs ?? [];
        if (!Array.isArray(qemuargs) || !qemuargs.every((a) => Array.isArray(a) && a.every((x) => typeof x === "string"))) {
            throw new Error(`config baseImages.${id}.qemuargs: must be a list of argument lists, e.g. [["-kernel", "/path/vmlinuz"]]`);
        }
        out[id] = {
            path: path.resolve(repoRoot, f.string("path")!),
            checksum: f.string("checksum", /^(none|sha256:[0-9a-f]{64})$/, "\"none\" or \"sha256:<64 hex>\"") ?? "none",
            sshUsername: f.string("sshUsername", /^[a-z_][a-z0-9_-]*$/, "a user name") ?? "root",
            qemuargs: qemuargs as string[][],
        };
    }
    return out;
}

export function loadConfig(cfg = new pulumi.Config(), stack = pulumi.getStack()): GoldConfig {
    const decl = declaredConfig();
    const get = (key: string) => readDeclared(cfg, key, decl[key]);

    const version = (get("version") as string) || stack;
    if (!SEMVER.test(version)) {
        throw new Error(`config version: '${version}' is not a semantic version (e.g. 1.4.0); set it, or name the stack after the version`);
    }

    const knownOses = listOses();
    const oses = get("oses") as unknown[];
    if (oses.length === 0) throw badChoice("config oses", [], knownOses);
    for (const id of oses) if (typeof id !== "string" || !knownOses.includes(id)) throw badChoice("config oses", id, knownOses);

    const providers = get("providers") as unknown[];
    if (providers.length === 0) throw badChoice("config providers", [], PROVIDER_NAMES);
    for (const p of providers) if (typeof p !== "string" || !isProvider(p)) throw badChoice("config providers", p, PROVIDER_NAMES);

    const parallel = get("parallelBuilds") as number;
    if (parallel < 0) throw new Error(`config parallelBuilds: ${parallel} is not valid; it must be 0 (half the cores) or more`);

    const publish = get("publish") as boolean;
    const selected = [...new Set(providers as ProviderName[])];
    const uniqueOses = [...new Set(oses as string[])];

    const siteRaw = cfg.get("site");
    let siteOverrides: Record<string, HclValue> = {};
    if (siteRaw !== undefined) {
        try {
            siteOverrides = JSON.parse(siteRaw);
        } catch {
            siteOverrides = undefined as never;
        }
        if (!siteOverrides || typeof siteOverrides !== "object" || Array.isArray(siteOverrides)) {
            throw new Error(`config site: ${JSON.stringify(siteRaw)} is not valid; it must be an object of site variables`);
        }
    }
    // Set by the stack itself: one version per stack, and the OS files' own values.
    for (const owned of ["version", "vm_name", "output_dir", "build_name", "source_disk", "source_disk_checksum", "http_directory"]) {
        if (owned in siteOverrides) throw new Error(`config site.${owned}: is set by the program, not by config`);
    }
    let site: SiteVars;
    try {
        site = loadSite({ overrides: siteOverrides });
    } catch (e) {
        throw new Error(`config site: ${(e as Error).message}`);
    }

    const { settings, builders } = providerSettings(cfg, publish, selected);
    if (publish && selected.includes("azure") && settings.azure.gallery && !/^\d+\.\d+\.\d+$/.test(version)) {
        throw new Error(`config version: '${version}' cannot be an Azure Compute Gallery image version, which must be MAJOR.MINOR.PATCH (unset azure.gallery or use such a version)`);
    }
    return {
        stack,
        version,
        oses: uniqueOses,
        providers: selected,
        publish,
        parallelBuilds: parallel || Math.max(1, Math.floor(os.cpus().length / 2)),
        site: { ...site, version },
        siteOverrides,
        builders,
        baseImages: baseImages(cfg, uniqueOses),
        settings,
    };
}
