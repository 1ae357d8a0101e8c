import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { repoRoot } from "../recipe/paths";
import { sh } from "../shell";
import { STORE_CLI } from "../stages/stage-command";
import { PublishInputs, UNTESTED_MARK } from "./names";

const UNTESTED_NOTE = "published without its first-boot test (config firstBoot: skip-unsafe): no one has booted it the way its users will";

/** The delete: the files go only while they are still this artifact's (its sha256 beside it). */
export function removeIfStill(target: string, sha256: string, ...others: string[]): string {
    return `if grep -qs ${sh([`^${sha256}  `])} ${sh([`${target}.sha256`])}; then ${sh(["rm", "-f", target, `${target}.sha256`, ...others])}; fi`;
}

/**
 * Places the published artifact at the seed's path, artifacts/<version>/<vm_name>/<build>/
 * <vm_name>-<version>_<build>.<ext>, from the store (a hard link when the store is a directory
 * of this file system, else a download), with NAME.sha256 beside it; delete removes just those
 * two files, unless a replacement placed its own there already (the engine runs the old
 * delete after the new create, at the same path). The engine never reads the artifact: the command does, when it runs. An untested
 * artifact gets NAME.gold-untested beside it (a file has no tags), saying why.
 */
export function placeArtifact(name: string, a: PublishInputs, target: string, parent: pulumi.Resource): pulumi.Output<string> {
    const mark = `${target}.${UNTESTED_MARK}`;
    const placed = new command.local.Command(
        name,
        {
            // The mark follows the config at every run (a later tested run drops it).
            create: [
                sh(["rm", "-f", mark]),
                sh([...STORE_CLI, "place", "--store", a.store.url, "--fingerprint", a.stage.fingerprint, "--to", target]),
                ...(a.untested ? [`printf '%s\\n' ${sh([UNTESTED_NOTE])} > ${sh([mark])}`] : []),
            ].join(" && "),
            delete: a.sha256.apply((sha) => removeIfStill(target, sha, mark)),
            dir: repoRoot,
            triggers: [a.sha256],
        },
        { parent, dependsOn: [a.stage.command] },
    );
    return placed.stdout.apply((s) => JSON.parse(s).path as string);
}
