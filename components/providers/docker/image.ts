import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { PublishInputs, marks } from "../../publish/names";
import { repoRoot } from "../../recipe/paths";
import { sh } from "../../shell";
import { STORE_CLI, StoredStage } from "../../stages/stage-command";
import type { DockerSettings } from ".";
import { TESTED_ARCHIVE, TESTED_TAG } from "../../firstboot/container";
import { buildArgs } from "./first-boot";

/** Prints the tag of the tested image a test report (its result.json, on stdin) names. */
const TESTED_REF = `const r = JSON.parse(require("fs").readFileSync(0, "utf8")); const ref = (r.image || {}).ref; if (!${TESTED_TAG}.test(ref)) throw new Error("the test report names no tested image"); process.stdout.write(ref)`;

export interface DockerImageArgs extends PublishInputs {
    /** The conversion whose files hold the build context (a FROM scratch Dockerfile and rootfs.tar.gz). */
    readonly conversion: StoredStage;
    /** Where the context is restored while the image is built: artifacts/<version>/<os>/docker. */
    readonly directory: string;
    /** Repository and optional registry to push to (config `docker`). */
    readonly settings: DockerSettings;
    /** Registry password (secret config dockerPassword), when pushing. */
    readonly password?: pulumi.Input<string>;
}

/**
 * A container image of the OS's root filesystem in the local engine: the image its first-boot
 * test built and ran, loaded from the archive the test stored (the same layers), labelled with
 * this version (a config of its own, so each version has its own digest); an
 * untested one (config firstBoot skip-unsafe) built from the conversion's context, marked. Made
 * by a command that restores its files from the store (the docker provider's Image would hash a
 * context directory of gigabytes at every preview). When a registry is configured, pushed as a
 * RegistryImage, whose delete removes the tag from the registry (retiring a version leaves
 * nothing behind there).
 */
export class DockerImage extends pulumi.ComponentResource {
    public readonly imageName: pulumi.Output<string>;
    public readonly repoDigest?: pulumi.Output<string>;

    constructor(name: string, args: DockerImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gold:publish:DockerImage", name, {}, opts);
        const s = args.settings;
        // Docker names are lowercase; the tag carries OS and version, as the seed's `docker import` did.
        const tag = `${args.vmName}-${args.version}`.toLowerCase().replace(/[^a-z0-9_.-]/g, "-");
        const repository = s.registry ? `${s.registry}/${s.repository}` : s.repository!;
        const image = `${repository}:${tag}`;
        // The version is the publisher's (the conversion and its test serve every version): a
        // label of this version's own image, whose config, and so its digest, is then its own —
        // versions that share a tested image never share a digest one version's delete removes.
        const labels = [...Object.entries(marks(args)), ["org.opencontainers.image.version", args.version]].flatMap(([k, v]) => ["--label", `${k}=${v}`]);
        const built = new command.local.Command(
            `${name}-image`,
            {
                create: args.sha256.apply((sha) => {
                    const dir = `${args.directory}/context-${sha.slice(0, 12)}`;
                    const make = args.untested
                        ? [
                              sh([...STORE_CLI, "fetch", "--store", args.store.url, "--fingerprint", args.conversion.fingerprint, "--to", dir]) + " >/dev/null",
                              sh(["docker", "build", ...buildArgs(sha), ...labels, "-t", image, `${dir}/context`]) + " >&2",
                          ]
                        : [
                              // The test's stage: its report names the image it saved.
                              sh([...STORE_CLI, "fetch", "--store", args.store.url, "--fingerprint", args.stage.fingerprint, "--to", dir]) + " >/dev/null",
                              `tested=$(${sh(["node", "-e", TESTED_REF])} < ${sh([`${dir}/result.json`])})`,
                              sh(["docker", "load", "-q", "-i", `${dir}/${TESTED_ARCHIVE}`]) + " >&2",
                              // The tested image's layers as they are, under this version's label (no context: nothing is added).
                              `printf '%s\\n' 'ARG GOLD_TESTED' 'FROM $GOLD_TESTED' | docker build -q --build-arg GOLD_TESTED="$tested" ${sh([...labels, "-t", image, "-"])} >&2`,
                              `docker image rm "$tested" >&2`,
                          ];
                    return [...make, sh(["rm", "-rf", "--", dir]), sh(["docker", "image", "inspect", "--format", `{"imageName": ${JSON.stringify(image)}, "id": {{json .Id}}}`, image])].join(" && ");
                }),
                // By the id it built, not the tag: a replacement has already moved the tag to its new image.
                delete: `id=$(node -e 'process.stdout.write(String(JSON.parse(process.env.PULUMI_COMMAND_STDOUT || "{}").id || ""))') && if [ -n "$id" ] && docker image inspect "$id" >/dev/null 2>&1; then docker image rm "$id" >&2; fi`,
                dir: repoRoot,
                triggers: [args.sha256, image, ...labels],
            },
            { parent: this, dependsOn: [args.stage.command], customTimeouts: { create: "1h" } },
        );
        this.imageName = built.stdout.apply((out) => JSON.parse(out).imageName as string);
        if (s.registry) {
            const pushed = new docker.RegistryImage(
                `${name}-push`,
                {
                    name: this.imageName,
                    keepRemotely: false,
                    triggers: { sha256: args.sha256 },
                    authConfig: { address: s.registry, username: s.username, password: args.password },
                },
                { parent: this, customTimeouts: { create: "1h" } },
            );
            this.repoDigest = pulumi.interpolate`${repository}@${pushed.sha256Digest}`;
        }
        this.registerOutputs({ imageName: this.imageName, repoDigest: this.repoDigest });
    }
}
