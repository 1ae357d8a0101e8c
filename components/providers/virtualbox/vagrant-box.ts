import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { repoRoot } from "../../recipe/paths";
import { sh } from "../../shell";
import { PublishInputs } from "../../publish/names";
import { placeArtifact } from "../../publish/local-artifact";

export interface VagrantBoxArgs extends PublishInputs {
    /** Where the box goes: artifacts/<version>/<vm_name>/virtualbox/<name>.box. */
    readonly target: string;
    /** The catalog of every version of this OS's box: artifacts/<vm_name>.json (the seed's). */
    readonly catalog: string;
    /** Box name in the catalog, <namespace>/<vm_name>. */
    readonly boxName: string;
    /** Base URL the catalog gives for boxes; default the file:// path of artifacts/. */
    readonly catalogUrl?: string;
}

const CATALOG = ["node_modules/.bin/ts-node", "--transpile-only", "scripts/vagrant-catalog.ts"];

/**
 * The Vagrant box at the seed's path and its entry in the OS's catalog, which lists every
 * version still published: created with this version, removed when the version is destroyed.
 */
export class VagrantBox extends pulumi.ComponentResource {
    public readonly boxPath: pulumi.Output<string>;
    public readonly catalogPath: string;

    constructor(name: string, args: VagrantBoxArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gold:publish:VagrantBox", name, {}, opts);
        this.boxPath = placeArtifact(`${name}-box`, args, args.target, this);
        // Published: the catalog URL + the box's place under artifacts/ (known, not cut out of a
        // resolved path, which a symlinked checkout would change); else the box's own file:// URL.
        const published = args.catalogUrl && `${args.catalogUrl.replace(/\/$/, "")}/${path.posix.relative("artifacts", args.target)}`;
        const url = this.boxPath.apply((p) => published || `file://${p}`);
        const entry = new command.local.Command(
            `${name}-catalog`,
            {
                create: pulumi
                    .all([url, args.sha256])
                    .apply(([u, sum]) =>
                        sh([...CATALOG, "add", "--catalog", args.catalog, "--name", args.boxName, "--version", args.version, "--provider", "virtualbox", "--url", u, "--sha256", sum]),
                    ),
                // Only this entry: a rebuild of the same version adds its new entry before the
                // old one is deleted.
                delete: pulumi.output(args.sha256).apply((sum) =>
                    sh([...CATALOG, "remove", "--catalog", args.catalog, "--version", args.version, "--provider", "virtualbox", "--sha256", sum]),
                ),
                dir: repoRoot,
                triggers: [args.sha256],
            },
            { parent: this },
        );
        this.catalogPath = args.catalog;
        this.registerOutputs({ boxPath: this.boxPath, catalogPath: this.catalogPath, catalogEntry: entry.stdout });
    }
}
