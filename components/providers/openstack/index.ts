// OpenStack: a compressed qcow2 as a Glance image with the recommended hardware properties.
import { z } from "zod";
import { choice, flag, list } from "../../recipe/fields";
import { publishInputs } from "../../publish/names";
import { BIOS, Settings, defineProvider } from "../provider";
import { WAYS, firstBoot } from "./first-boot";
import { OWN_PROPERTIES, OpenstackImage } from "./image";

const fields = {
    /**
     * How Nova gives the image's instances their metadata: a config drive, the metadata service
     * (169.254.169.254), or either (the cloud decides). The first-boot test boots each; the
     * image's cloud-init looks only where it may find it; config-drive asks Nova for one
     * (Glance's img_config_drive=mandatory).
     */
    metadata: choice(["both", ...WAYS]).default("both"),
    visibility: choice(["private", "public", "shared", "community"]).default("private"),
    /** Glance's hw_machine_type; unset: the cloud's default (i440fx on most). */
    machineType: choice(["q35"]).optional(),
    /** Glance's protected flag: the image cannot be deleted (the seed's --protected); destroy then fails until it is cleared. */
    protected: flag().default(false),
    /** Extra tags besides "gold" and the version (the seed tagged its images "packer"). */
    tags: list(/^[A-Za-z0-9_.:-]{1,64}$/, "a list of tags (letters, digits, '_', '.', ':', '-')").max(16, { error: "at most 16 tags" }).default([]),
    /** Extra Glance properties; the hardware and OS properties are the publisher's own. */
    properties: z
        .record(z.string().regex(/^[A-Za-z0-9_:.-]{1,255}$/), z.string().max(255), { error: "an object of string values (Glance property names to values)" })
        .refine((p) => !OWN_PROPERTIES.some((k) => k in p), { error: `an object of extra properties, without ${OWN_PROPERTIES.join(", ")} (the publisher sets those from the OS file, openstack.metadata and openstack.machineType)` })
        .default({}),
};

/** Config `openstack`, checked. */
export type OpenstackSettings = Settings<typeof fields>;

export default defineProvider({
    name: "openstack",
    title: "OpenStack",
    fields,
    requiredToPublish: [],
    isoBuilder: "qemu",
    format: "qcow2",
    firstBoot,
    // Glance's hw_firmware_type is left to the cloud for a hybrid disk (./image.ts): its
    // instances boot SeaBIOS unless the cloud says otherwise, which the first-boot test proves.
    boot: () => BIOS,
    firstBootWays: (s) => (s.metadata === "both" ? WAYS : [s.metadata]),
    buildVars: (s) => ({ openstack_metadata: s.metadata }),
    outputs: ["imageId"],
    publish: (a) => ({ imageId: new OpenstackImage(a.name, { ...publishInputs(a), os: a.os, settings: a.settings }).imageId }),
});
