import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { repoRoot } from "../recipe/paths";
import { q, sh } from "../shell";

/**
 * Places a converted artifact at the seed's path, artifacts/<version>/<vm_name>/<build>/
 * <vm_name>-<version>_<build>.<ext>, as a hard link (no copy of gigabytes), with a SHA256SUM
 * beside it; delete removes just those two files.
 */
export function placeArtifact(name: string, source: pulumi.Input<string>, target: string, sha256: pulumi.Input<string>, parent: pulumi.Resource) {
    const dir = target.slice(0, target.lastIndexOf("/"));
    const base = target.slice(target.lastIndexOf("/") + 1);
    const placed = new command.local.Command(
        name,
        {
            create: pulumi
                .all([source, sha256])
                .apply(([src, sum]) =>
                    [
                        sh(["mkdir", "-p", dir]),
                        sh(["ln", "-f", src, target]) + " 2>/dev/null || " + sh(["cp", "-f", "--reflink=auto", src, target]),
                        `printf '%s  %s\\n' ${q(sum)} ${q(base)} > ${q(`${target}.sha256`)}`,
                        sh(["realpath", target]),
                    ].join(" && "),
                ),
            delete: sh(["rm", "-f", target, `${target}.sha256`]),
            dir: repoRoot,
            triggers: [sha256],
        },
        { parent },
    );
    return placed.stdout.apply((s) => s.trim());
}
