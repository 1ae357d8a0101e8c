import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { repoRoot } from "../recipe/paths";
import { sh } from "../shell";
import { STORE_CLI } from "../stages/stage-command";
import { refsKey, refsOwner } from "./gc";

export interface StoreReferencesArgs {
    /** The artifact store (config artifactStore). */
    readonly store: string;
    /** Every stage fingerprint the stack uses. */
    readonly fingerprints: readonly string[];
}

/**
 * The stack's references in the store (refs/<project>.<stack>/<hash>.json): while they are
 * there, `store.ts gc` keeps every stage they name. A changed set is written before the old
 * one is removed; `pulumi destroy` removes the stack's set, and never a blob.
 */
export class StoreReferences extends pulumi.ComponentResource {
    public readonly key: string;

    constructor(name: string, args: StoreReferencesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gold:store:References", name, {}, opts);
        const owner = refsOwner(pulumi.getProject(), pulumi.getStack());
        const fingerprints = [...new Set(args.fingerprints)].sort();
        this.key = refsKey(owner, fingerprints);
        new command.local.Command(
            `${name}-write`,
            {
                create: sh([...STORE_CLI, "ref", "--store", args.store, "--stack", owner, "--fingerprints", fingerprints.join(",")]),
                delete: sh([...STORE_CLI, "unref", "--store", args.store, "--key", this.key]),
                dir: repoRoot,
                triggers: [this.key, args.store],
            },
            { parent: this },
        );
        this.registerOutputs({ key: this.key });
    }
}
