import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { repoRoot } from "../recipe/paths";
import { sh } from "../shell";
import { STORE_CLI } from "../stages/stage-command";
import { ObjectLocation, storeLocation } from "../store";
import { PublishInputs } from "./names";

/** Where the published artifact is in the store (no I/O: from its key in the stage's result). */
export function storedObject(a: PublishInputs): pulumi.Output<ObjectLocation> {
    return a.stage.result.apply((r) => storeLocation(a.store, r.key));
}

export interface ExportArgs {
    /** The object to make: s3://bucket/key?region=…, gs://bucket/name, azblob://account/container/name. */
    readonly to: pulumi.Input<string>;
    /** An Azure page blob (a disk Azure imports). */
    readonly pageBlob?: boolean;
    /** Credentials of the target beyond the usual environment (e.g. an Azure account key). */
    readonly environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    readonly timeout?: string;
}

/**
 * A copy of the published artifact in a cloud's storage, made by a command keyed by the
 * artifact's sha256: streamed from the store on create (the engine never reads or hashes it),
 * and only that copy removed on delete (the store's blob is shared). A moved target (another
 * bucket or container) is an update: the copy is made there, then the previous one removed.
 */
export function exportArtifact(name: string, a: PublishInputs, e: ExportArgs, parent: pulumi.Resource): pulumi.Output<string> {
    const to = pulumi.output(e.to);
    const exportWords = (t: string) => [...STORE_CLI, "export", "--store", a.store.url, "--fingerprint", a.stage.fingerprint, "--to", t, ...(e.pageBlob ? ["--page-blob", "yes"] : [])];
    const copy = new command.local.Command(
        name,
        {
            create: to.apply((t) => sh(exportWords(t))),
            update: to.apply((t) => `${sh([...exportWords(t), "--previous"])} "$PULUMI_COMMAND_STDOUT"`),
            delete: to.apply((t) => sh([...STORE_CLI, "remove", "--url", t])),
            dir: repoRoot,
            environment: e.environment,
            triggers: [a.sha256],
        },
        { parent, dependsOn: [a.stage.command], customTimeouts: { create: e.timeout ?? "3h", delete: "30m" } },
    );
    // The target once the copy is made (what a cloud resource imports from waits for it).
    return pulumi.all([copy.stdout, to]).apply(([, t]) => t);
}
