import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PublishInputs, imageName, marks } from "../../publish/names";
import { OsVars, bootsWith } from "../../recipe/os";
import { repoRoot } from "../../recipe/paths";
import { sh } from "../../shell";
import type { OpenstackSettings } from ".";

export interface OpenstackImageArgs extends PublishInputs {
    readonly os: OsVars;
    /** Visibility and extra image properties (config `openstack`). */
    readonly settings: OpenstackSettings;
}

/**
 * What the publisher sets on every image: the hardware it was built for (and the machine type
 * of config openstack.machineType), the OS file's facts, and whether Nova must attach a config
 * drive (config openstack.metadata config-drive: the image's cloud-init looks nowhere else).
 */
function ownProperties(os: Pick<OsVars, "os_distro" | "os_version" | "firmware">, s: Pick<OpenstackSettings, "metadata" | "machineType">): Record<string, string> {
    return {
        hw_disk_bus: "scsi",
        hw_scsi_model: "virtio-scsi",
        hw_vif_model: "virtio",
        hw_qemu_guest_agent: "no",
        // A hybrid disk boots with either firmware: Nova's default (SeaBIOS, what the first-boot
        // test proves) or a cloud's own. A disk of one firmware says which.
        ...(bootsWith(os, "uefi") ? {} : { hw_firmware_type: "bios" }),
        ...(s.machineType ? { hw_machine_type: s.machineType } : {}),
        os_type: "linux",
        os_distro: os.os_distro,
        os_version: os.os_version,
        img_config_drive: s.metadata === "config-drive" ? "mandatory" : "optional",
    };
}

/** Properties config `openstack.properties` may not set: every one the publisher may set. */
export const OWN_PROPERTIES: string[] = Object.keys(ownProperties({ os_distro: "", os_version: "", firmware: ["bios"] }, { metadata: "both", machineType: "q35" }));

const GLANCE = ["node_modules/.bin/ts-node", "--transpile-only", "components/providers/openstack/glance-image.ts"];

/**
 * A Glance image from the compressed qcow2, with the recommended hardware properties, made by a
 * command that streams the artifact from the store (./glance-image.ts). Any change of the
 * request (name with the sha256, properties, visibility, tags) is a new image: os_* properties
 * are taken only at create; the old image is deleted after the new one is active.
 */
export class OpenstackImage extends pulumi.ComponentResource {
    public readonly imageId: pulumi.Output<string>;

    constructor(name: string, args: OpenstackImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gold:publish:OpenstackImage", name, {}, opts);
        const s = args.settings;
        const request = imageName(args.vmName, args.version, args.sha256).apply((title) =>
            JSON.stringify({
                // The checksum in the name: Glance would not notice new content at the same path.
                name: title,
                diskFormat: "qcow2",
                containerFormat: "bare",
                visibility: s.visibility,
                protected: s.protected,
                tags: ["gold", args.version, ...s.tags, ...Object.keys(marks(args))],
                properties: { ...s.properties, ...ownProperties(args.os, s) },
            }),
        );
        const image = new command.local.Command(
            `${name}-glance`,
            {
                create: request.apply((r) => sh([...GLANCE, "create", "--store", args.store.url, "--fingerprint", args.stage.fingerprint, "--request", r])),
                delete: `${sh([...GLANCE, "delete", "--created"])} "$PULUMI_COMMAND_STDOUT"`,
                dir: repoRoot,
                triggers: [args.sha256, request],
            },
            { parent: this, dependsOn: [args.stage.command], customTimeouts: { create: "2h", delete: "30m" } },
        );
        this.imageId = image.stdout.apply((out) => JSON.parse(out).id as string);
        this.registerOutputs({ imageId: this.imageId });
    }
}
