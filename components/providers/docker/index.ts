// Docker: the root filesystem as an image FROM scratch, pushed when a registry is set.
import { text } from "../../recipe/fields";
import { publishInputs } from "../../publish/names";
import { Settings, defineProvider } from "../provider";
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
    outputs: ["imageName", "repoDigest"],
    publish: (a) => {
        const context = a.conversion.result.apply((r) => {
            if (typeof r.context !== "string" || r.context === "") throw new Error(`${a.name}: the conversion reported no build context (format rootfs makes OUTPUT_DIR/context)`);
            return r.context;
        });
        const img = new DockerImage(a.name, { ...publishInputs(a), context, settings: a.settings, password: a.secrets.dockerPassword });
        return { imageName: img.imageName, ...(img.repoDigest ? { repoDigest: img.repoDigest } : {}) };
    },
});
