// Docker: the root filesystem as an image FROM scratch, pushed when a registry is set.
import * as pulumi from "@pulumi/pulumi";
import { text } from "../../recipe/fields";
import { publishInputs } from "../../publish/names";
import { Settings, defineProvider } from "../provider";
import { firstBoot } from "./first-boot";
import { DockerImage } from "./image";

const fields = {
    repository: text(/^[a-z0-9]+([._/-][a-z0-9]+)*$/, "a lowercase repository name").optional(),
    /** Registry server to push to; absent: the image stays in the local Docker engine. */
    registry: text(/^[A-Za-z0-9.-]+(:\d+)?$/, "a registry host[:port]").optional(),
    username: text(/^[A-Za-z0-9._@+-]+$/, "a registry user name").optional(),
};

/** Config `docker`, checked. */
export type DockerSettings = Settings<typeof fields>;

export default defineProvider({
    name: "docker",
    title: "Docker",
    fields,
    requiredToPublish: ["repository"],
    // The registry password when docker.registry is set.
    secrets: ["dockerPassword"],
    isoBuilder: "qemu",
    format: "rootfs",
    firstBoot,
    outputs: ["imageName", "repoDigest"],
    publish: (a) => {
        // After the test: the sha256 is the tested image's.
        const context = pulumi.all([a.conversion.result, a.sha256]).apply(([r]): string => {
            if (typeof r.context !== "string" || r.context === "") throw new Error(`${a.name}: the conversion reported no build context (format rootfs makes OUTPUT_DIR/context)`);
            return r.context;
        });
        const img = new DockerImage(a.name, { ...publishInputs(a), context, settings: a.settings, password: a.secrets.dockerPassword });
        return { imageName: img.imageName, ...(img.repoDigest ? { repoDigest: img.repoDigest } : {}) };
    },
});
