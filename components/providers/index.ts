// The provider registry: every folder of components/providers/ with an index module is a
// provider. Adding one is its folder and its Ansible role; no list elsewhere names providers.
import * as fs from "fs";
import * as path from "path";
import { recipePaths, repoRoot } from "../recipe/paths";
import { FORMATS, ISO_BUILDERS, ProviderModule } from "./provider";

export type { ArtifactFormat, IsoBuilder, ProviderModule, PublishArgs } from "./provider";

/** Provider names, from the folders alone (no module is loaded): for the kickstart tools too. */
export function providerNames(root: string = repoRoot): string[] {
    const dir = path.join(root, "components", "providers");
    if (!fs.existsSync(dir)) return [];
    return fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && /^[a-z][a-z0-9]*$/.test(e.name) && ["index.ts", "index.js"].some((f) => fs.existsSync(path.join(dir, e.name, f))))
        .map((e) => e.name)
        .sort();
}

let loaded: ReadonlyMap<string, ProviderModule> | undefined;

/** Every provider module, by name (loaded once; a module that breaks the contract fails here). */
export function providers(): ReadonlyMap<string, ProviderModule> {
    if (loaded) return loaded;
    const out = new Map<string, ProviderModule>();
    for (const name of providerNames()) {
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const module = require(path.join(__dirname, name)).default as ProviderModule;
        const bad = (why: string) => new Error(`components/providers/${name}: ${why}`);
        if (!module || module.name !== name) throw bad(`its default export must be defineProvider({ name: "${name}", … })`);
        if (!ISO_BUILDERS.includes(module.isoBuilder)) throw bad(`isoBuilder '${module.isoBuilder}' is not one of ${ISO_BUILDERS.join(", ")}`);
        if (!FORMATS.includes(module.format)) throw bad(`format '${module.format}' is not one of ${FORMATS.join(", ")}`);
        if (!fs.existsSync(path.join(recipePaths().ansible, "roles", name, "tasks", "main.yml"))) throw bad(`its role ansible/roles/${name}/tasks/main.yml is missing`);
        for (const field of module.requiredToPublish) if (!(field in module.fields)) throw bad(`requiredToPublish names '${field}', which is not one of its fields`);
        out.set(name, module);
    }
    loaded = out;
    return out;
}

export function providerModule(name: string): ProviderModule {
    const module = providers().get(name);
    if (!module) throw new Error(`unknown provider '${name}'; known: ${[...providers().keys()].join(", ")}`);
    return module;
}
