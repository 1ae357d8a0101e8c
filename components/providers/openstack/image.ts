import * as openstack from "@pulumi/openstack";
import * as pulumi from "@pulumi/pulumi";
import { PublishInputs, imageName } from "../../publish/names";
import { OsVars } from "../../recipe/os";
import type { OpenstackSettings } from ".";

export interface OpenstackImageArgs extends PublishInputs {
    readonly os: OsVars;
    /** Visibility and extra image properties (config `openstack`). */
    readonly settings: OpenstackSettings;
}

/** What the publisher sets on every image: the hardware it was built for and the OS file's facts. */
function ownProperties(os: OsVars): Record<string, string> {
    return {
        hw_disk_bus: "scsi",
        hw_scsi_model: "virtio-scsi",
        hw_vif_model: "virtio",
        hw_qemu_guest_agent: "no",
        os_type: "linux",
        os_distro: os.os_distro,
        os_version: os.os_version,
    };
}

/** Properties config `openstack.properties` may not set. */
export const OWN_PROPERTIES = Object.keys(ownProperties({ os_distro: "", os_version: "" } as OsVars));

/** A Glance image from the compressed qcow2, with the recommended hardware properties. */
export class OpenstackImage extends pulumi.ComponentResource {
    public readonly imageId: pulumi.Output<string>;

    constructor(name: string, args: OpenstackImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gold:publish:OpenstackImage", name, {}, opts);
        const image = new openstack.images.Image(
            `${name}-image`,
            {
                // The checksum in the name: Glance would not notice new content at the same path.
                name: imageName(args.vmName, args.version, args.sha256),
                localFilePath: args.artifact,
                containerFormat: "bare",
                diskFormat: "qcow2",
                visibility: args.settings.visibility,
                tags: ["gold", args.version, ...args.settings.tags],
                protected: args.settings.protected,
                properties: { ...args.settings.properties, ...ownProperties(args.os) },
            },
            // os_* properties are taken only at create: any change is a new image.
            { parent: this, replaceOnChanges: ["name", "properties"], customTimeouts: { create: "2h" } },
        );
        this.imageId = image.id;
        this.registerOutputs({ imageId: this.imageId });
    }
}
