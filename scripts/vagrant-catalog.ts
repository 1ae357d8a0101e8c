// CLI over components/providers/virtualbox/vagrant-catalog.ts, for the publish stage's Command:
//   ts-node scripts/vagrant-catalog.ts add --catalog FILE --name NS/OS --version V \
//       --provider virtualbox --url URL --sha256 HEX [--description TEXT]
//   ts-node scripts/vagrant-catalog.ts remove --catalog FILE --version V [--provider P] [--sha256 HEX]
// remove --sha256 removes only an entry with that checksum: use it in a Pulumi `delete`, which
// runs after the replacement's `add` for the same version (see removeFromCatalog).
// stdout: one JSON line {"catalog": abs path, "versions": [...], "changed": bool}.
// Exit 0 ok, 2 bad input (message names the bad value), 1 anything else (I/O, lock timeout).
import { parseSubcommand } from "../components/cli/subcommand";
import { addVersion, CatalogInputError, removeVersion } from "../components/providers/virtualbox/vagrant-catalog";

const USAGE = `usage:
  vagrant-catalog.ts add --catalog FILE --name NS/OS --version V --provider P --url URL --sha256 HEX [--description TEXT]
  vagrant-catalog.ts remove --catalog FILE --version V [--provider P] [--sha256 HEX]`;

const COMMANDS = {
    add: { required: ["catalog", "name", "version", "provider", "url", "sha256"], optional: ["description"] },
    remove: { required: ["catalog", "version"], optional: ["provider", "sha256"] },
} as const;

function main(argv: string[]): number {
    const { command, values: v, given: values } = parseSubcommand(argv, COMMANDS, USAGE, (m) => new CatalogInputError(m));
    const result =
        command === "add"
            ? addVersion(v.catalog, { name: v.name, version: v.version, provider: v.provider, url: v.url, sha256: v.sha256, description: values.description })
            : removeVersion(v.catalog, v.version, values.provider, undefined, values.sha256);
    process.stdout.write(JSON.stringify(result) + "\n");
    return 0;
}

try {
    process.exitCode = main(process.argv.slice(2));
} catch (e) {
    process.stderr.write(`vagrant-catalog: ${(e as Error).message}\n`);
    process.exitCode = e instanceof CatalogInputError ? 2 : 1;
}
