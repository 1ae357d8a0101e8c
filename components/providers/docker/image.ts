import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { PublishInputs } from "../../publish/names";
import type { DockerSettings } from ".";

export interface DockerImageArgs extends PublishInputs {
    /** The build context the conversion made: a FROM scratch Dockerfile and rootfs.tar.gz only. */
    readonly context: pulumi.Input<string>;
    /** Repository and optional registry to push to (config `docker`). */
    readonly settings: DockerSettings;
    /** Registry password (secret config dockerPassword), when pushing. */
    readonly password?: pulumi.Input<string>;
}

/**
 * A container image of the OS's root filesystem, built by the local engine and, when a registry
 * is configured, pushed as a RegistryImage, whose delete removes the tag from the registry
 * (retiring a version leaves nothing behind there).
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
        const image = new docker.Image(
            `${name}-image`,
            {
                imageName: `${repository}:${tag}`,
                build: {
                    context: args.context,
                    dockerfile: pulumi.interpolate`${args.context}/Dockerfile`,
                    platform: "linux/amd64",
                    // A new rootfs is a new image even when the context path is reused.
                    args: { GOLD_ROOTFS_SHA256: pulumi.output(args.sha256) },
                },
                skipPush: true,
            },
            { parent: this, customTimeouts: { create: "1h" } },
        );
        this.imageName = image.imageName;
        if (s.registry) {
            const pushed = new docker.RegistryImage(
                `${name}-push`,
                {
                    name: image.imageName,
                    keepRemotely: false,
                    triggers: { sha256: pulumi.output(args.sha256) },
                    authConfig: { address: s.registry, username: s.username, password: args.password },
                },
                { parent: this, customTimeouts: { create: "1h" } },
            );
            this.repoDigest = pulumi.interpolate`${repository}@${pushed.sha256Digest}`;
        }
        this.registerOutputs({ imageName: this.imageName, repoDigest: this.repoDigest });
    }
}
