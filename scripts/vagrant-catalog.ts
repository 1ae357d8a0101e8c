// CLI over components/providers/virtualbox/vagrant-catalog.ts, for the publish stage's Command:
//   ts-node scripts/vagrant-catalog.ts add --catalog FILE --name NS/OS --version V \
//       --provider virtualbox --url URL --sha256 HEX [--description TEXT]
//   ts-node scripts/vagrant-catalog.ts remove --catalog FILE --version V [--provider P] [--sha256 HEX]
// remove --sha256 removes only an entry with that checksum: use it in a Pulumi `delete`, which
// runs after the replacement's `add` for the same version (see removeFromCatalog).
// stdout: one JSON line {"catalog": abs path, "versions": [...], "changed": bool}.
// Exit 0 ok, 2 bad input (message names the bad value), 1 anything else (I/O, lock timeout).
import { parseSubcommandOrExit, runMain } from "../components/cli/args";
import { addVersion, CatalogInputError, PROVIDERS, removeVersion } from "../components/providers/virtualbox/vagrant-catalog";

const PROGRAM = {
    name: "vagrant-catalog",
    run: "ts-node scripts/vagrant-catalog.ts",
    summary: "Adds a box version to a Vagrant catalog (metadata.json) or removes one, under a lock; prints one JSON line.",
    examples: ["ts-node scripts/vagrant-catalog.ts add --catalog artifacts/vagrant/gold-rocky9.json --name gold/rocky9 --version 1.4.0 --provider virtualbox --url https://boxes.example.com/rocky9-1.4.0.box --sha256 <64 hex digits>"],
};

const catalog = { help: "the catalog file (made when absent)", required: true, value: "FILE" } as const;
const version = { help: "the box version (semantic version)", required: true, value: "V", example: "1.4.0" } as const;

const COMMANDS = {
    add: {
        summary: "adds (or replaces) a version's box for a provider",
        options: {
            catalog,
            name: { help: "the box's name, NAMESPACE/BOX", required: true, value: "NS/BOX", example: "gold/rocky9" },
            version,
            provider: { help: "Vagrant's provider name", required: true, value: "P", choices: PROVIDERS },
            url: { help: "where the box is downloaded from (file://, https://, http://)", required: true, value: "URL" },
            sha256: { help: "the box file's sha256", required: true, value: "HEX" },
            description: { help: "the catalog's description", value: "TEXT" },
        },
        examples: PROGRAM.examples,
    },
    remove: {
        summary: "removes a version (or only its box for one provider, or only the box with that checksum)",
        options: {
            catalog,
            version,
            provider: { help: "only this provider's box", value: "P", choices: PROVIDERS },
            sha256: { help: "only an entry with this checksum (a Pulumi delete after the replacement's add)", value: "HEX" },
        },
        examples: ["ts-node scripts/vagrant-catalog.ts remove --catalog artifacts/vagrant/gold-rocky9.json --version 1.4.0 --provider virtualbox"],
    },
} as const;

runMain(
    PROGRAM,
    () => {
        const a = parseSubcommandOrExit(PROGRAM, COMMANDS, process.argv.slice(2));
        if (a.command === "add") {
            const v = a.values;
            return addVersion(v.catalog, { name: v.name, version: v.version, provider: v.provider, url: v.url, sha256: v.sha256, description: v.description });
        }
        const v = a.values;
        return removeVersion(v.catalog, v.version, v.provider, undefined, v.sha256);
    },
    [CatalogInputError],
);
