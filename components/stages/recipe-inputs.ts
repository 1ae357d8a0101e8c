// What the Packer stages read from the recipe, in common. Each stage's own inputs are in its
// file (base.ts, variant.ts, conversion.ts). Editing a provider's role touches only that
// provider's variant (and what follows it); a kickstart template touches every stage of its family.
import * as path from "path";
import { OsVars, osFile } from "../recipe/os";
import { Recipe } from "../recipe/recipe";
import { installProxy } from "../isolation/guest";
import type { IsoBuilder } from "../providers/provider";

// A public key of no one's: the kickstart is fingerprinted with it, so a machine's own build
// key (keys/packer.pub, different on every machine) does not make every image look changed.
const PLACEHOLDER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBKwDfYnJXzCTGNZ/mMlQDIvhVO/kKFaEbiq6OwbQhH8 fingerprint-placeholder";

// Site variables that change how a build runs on this machine, not what it makes.
const RUN_ONLY = new Set(["headless", "accelerator", "memory", "cpus", "ssh_timeout", "boot_wait"]);

/**
 * Packer templates (every *.pkr.hcl of templates/, not plugins/). The build wrapper
 * (scripts/packer-build.sh) is not an input: it decides how a build runs (slots, logs,
 * signals), not what it makes, and its arguments are part of the command itself.
 */
export function packerFiles(recipe: Recipe): string[] {
    return recipe.files("templates").filter((f) => path.posix.dirname(f) === "templates" && f.endsWith(".pkr.hcl"));
}

/** Provisioning every Packer stage runs: the playbook, its settings, cleanup and zero-fill. */
export const PROVISIONING = ["ansible/site.yml", "ansible/ansible.cfg", "ansible/group_vars", "ansible/roles/cleanup", "scripts/cleanup.sh", "scripts/zero.sh"];

/**
 * The site variables that shape what a build makes. Not the version: no build reads it (Packer
 * gets none, Ansible no packer_version), so every version of a recipe shares its stages.
 */
export function buildValues(recipe: Recipe): Record<string, unknown> {
    return { site: Object.fromEntries(Object.entries(recipe.site).filter(([k]) => !RUN_ONLY.has(k) && k !== "version")) };
}

/** A kickstart as fingerprinted (with the placeholder key). */
export function kickstartInput(recipe: Recipe, build: string, os: OsVars, builder: IsoBuilder): string {
    return recipe.kickstart(build, os.vm_name, { sshPublicKey: PLACEHOLDER_KEY }, installProxy(builder));
}

/** The OS file, repo-relative. */
export function osInput(recipe: Recipe, os: OsVars): string {
    return path.relative(recipe.root, osFile(os.vm_name, recipe.root));
}
