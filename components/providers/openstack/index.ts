// OpenStack: a compressed qcow2 as a Glance image with the recommended hardware properties.
import { z } from "zod";
import { choice } from "../../recipe/fields";
import { publishInputs } from "../../publish/names";
import { Settings, defineProvider } from "../provider";
import { OpenstackImage } from "./image";

const fields = {
    visibility: choice(["private", "public", "shared", "community"]).default("private"),
    /** Extra Glance properties. */
    properties: z.record(z.string().regex(/^[A-Za-z0-9_:.-]+$/), z.string().max(255), { error: "an object of string values (Glance property names to values)" }).default({}),
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
    outputs: ["imageId"],
    publish: (a) => ({ imageId: new OpenstackImage(a.name, { ...publishInputs(a), os: a.os, settings: a.settings }).imageId }),
});
