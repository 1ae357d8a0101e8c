import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { repoRoot } from "../recipe/paths";
import { sh } from "../shell";
import { STORE_CLI } from "../stages/stage-command";
import { PublishInputs } from "./names";

/**
 * Places the published artifact at the seed's path, artifacts/<version>/<vm_name>/<build>/
 * <vm_name>-<version>_<build>.<ext>, from the store (a hard link when the store is a directory
 * of this file system, else a download), with NAME.sha256 beside it; delete removes just those
 * two files. The engine never reads the artifact: the command does, when it runs.
 */
export function placeArtifact(name: string, a: PublishInputs, target: string, parent: pulumi.Resource): pulumi.Output<string> {
    const placed = new command.local.Command(
        name,
        {
            create: sh([...STORE_CLI, "place", "--store", a.store.url, "--fingerprint", a.stage.fingerprint, "--to", target]),
            delete: sh(["rm", "-f", target, `${target}.sha256`]),
            dir: repoRoot,
            triggers: [a.sha256],
        },
        { parent, dependsOn: [a.stage.command] },
    );
    return placed.stdout.apply((s) => JSON.parse(s).path as string);
}
