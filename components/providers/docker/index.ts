// Docker: the root filesystem as an image FROM scratch, pushed when a registry is set.
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
        const img = new DockerImage(a.name, {
            ...publishInputs(a),
            conversion: a.conversion,
            directory: a.directory,
            settings: a.settings,
            password: a.secrets.dockerPassword,
        });
        return { imageName: img.imageName, ...(img.repoDigest ? { repoDigest: img.repoDigest } : {}) };
    },
});
