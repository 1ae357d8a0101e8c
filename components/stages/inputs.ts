import * as fs from "fs";
import { BaseImage, Builder } from "../config";
import { StageInputs, fingerprint } from "../fingerprint";
import { renderKickstart } from "../kickstart/render";
import { OsVars, osFile } from "../recipe/os";
import { recipePaths, repoRoot } from "../recipe/paths";
import { ProviderName } from "../recipe/providers";
import { SiteVars } from "../recipe/site";
import * as path from "path";

/**
 * Exactly what each stage reads. Editing a provider's role touches only that provider's
 * variant (and what follows it); a kickstart template touches every stage of its family.
 */

// A public key of no one's: the kickstart is fingerprinted with it, so a machine's own build
// key (keys/packer.pub, different on every machine) does not make every image look changed.
const PLACEHOLDER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBKwDfYnJXzCTGNZ/mMlQDIvhVO/kKFaEbiq6OwbQhH8 fingerprint-placeholder";

// Site variables that change how a build runs on this machine, not what it makes.
const RUN_ONLY = new Set(["headless", "accelerator", "memory", "cpus", "ssh_timeout", "boot_wait", "artifacts_dir", "output_dir", "http_directory"]);

export interface StageContext {
    readonly os: OsVars;
    readonly site: SiteVars;
    readonly root?: string;
}

function rel(root: string, abs: string): string {
    return path.relative(root, abs);
}

/**
 * Packer templates (every *.pkr.hcl of templates/, not plugins/). The build wrapper
 * (scripts/packer-build.sh) is not an input: it decides how a build runs (slots, logs,
 * signals), not what it makes, and its arguments are part of the command itself.
 */
function packerFiles(root: string): string[] {
    const dir = recipePaths(root).templates;
    return fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".pkr.hcl"))
        .map((f) => rel(root, path.join(dir, f)));
}

const PROVISIONING = ["ansible/site.yml", "ansible/ansible.cfg", "ansible/group_vars", "ansible/roles/cleanup", "scripts/cleanup.sh", "scripts/zero.sh"];

function buildValues(ctx: StageContext): Record<string, unknown> {
    const site = Object.fromEntries(Object.entries(ctx.site).filter(([k]) => !RUN_ONLY.has(k)));
    return { site };
}

function kickstart(ctx: StageContext, build: string, root: string): string {
    return renderKickstart({ build, os: ctx.os.vm_name, site: ctx.site, root, sshPublicKey: PLACEHOLDER_KEY });
}

/** The OS install: from its ISO with the base kickstart, or from an existing disk image. */
export function baseInputs(ctx: StageContext, image?: BaseImage): StageInputs {
    const root = ctx.root ?? repoRoot;
    const from = image
        ? { image: { path: image.path, checksum: image.checksum === "none" ? diskIdentity(image.path) : image.checksum, qemuargs: image.qemuargs, user: image.sshUsername } }
        : { kickstart: kickstart(ctx, "virtual", root) };
    return {
        files: [...packerFiles(root), ...PROVISIONING, "ansible/roles/base", rel(root, osFile(ctx.os.vm_name, root))],
        values: { ...buildValues(ctx), stage: "base", ...from },
    };
}

/** A provider's image: from the base disk (variant) or the seed's full ISO build (iso). */
export function variantInputs(ctx: StageContext, provider: ProviderName, builder: Builder, baseFingerprint?: string): StageInputs {
    const root = ctx.root ?? repoRoot;
    const files = [...packerFiles(root), ...PROVISIONING, `ansible/roles/${provider}`];
    if (provider === "virtualbox") files.push("templates/vagrant");
    if (builder === "variant") {
        if (!baseFingerprint) throw new Error(`the ${provider} variant of ${ctx.os.vm_name} needs its base`);
        return { files, values: { ...buildValues(ctx), stage: "variant", provider }, upstream: baseFingerprint };
    }
    return {
        files: [...files, "ansible/roles/base", rel(root, osFile(ctx.os.vm_name, root))],
        values: { ...buildValues(ctx), stage: "iso", provider, kickstart: kickstart(ctx, `virtual/${provider}`, root) },
    };
}

/** The conversion of a provider's image into its target format. */
export function conversionInputs(provider: ProviderName, name: string, variantFingerprint: string): StageInputs {
    return { files: ["scripts/convert.sh"], values: { stage: "convert", provider, name }, upstream: variantFingerprint };
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

export { fingerprint };
