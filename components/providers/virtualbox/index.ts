// VirtualBox: a Vagrant box at the seed's path and its entry in the OS's box catalog.
import { choice, text } from "../../recipe/fields";
import { publishInputs } from "../../publish/names";
import { Settings, defineProvider } from "../provider";
import { FIRMWARE, virtualboxBoot } from "./boot";
import { firstBoot } from "./first-boot";
import { VagrantBox } from "./vagrant-box";

const fields = {
    /** Vagrant box name; default <namespace>/<OS>. */
    boxName: text(/^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/, "<namespace>/<name>").optional(),
    /** Base URL of the boxes written into the catalog; default file:// of the artifacts. */
    catalogUrl: text(/^(https?:\/\/[A-Za-z0-9.-]+(:\d+)?|file:\/\/)(\/[A-Za-z0-9._~%!$&'()*+,;=:@\/-]*)?$/, "an http(s):// or file:// URL", 1024)
        .refine((u) => URL.canParse(u), { error: "an http(s):// or file:// URL" })
        .optional(),
    /** The box's firmware (its Vagrantfile's modifyvm --firmware); unset: bios where the OS's disk boots it. */
    firmware: choice(FIRMWARE.choices).optional(),
};

/** Config `virtualbox`, checked. */
export type VirtualboxSettings = Settings<typeof fields>;

export default defineProvider({
    name: "virtualbox",
    title: "VirtualBox (Vagrant box)",
    fields,
    requiredToPublish: [],
    check: (s, ctx) => {
        for (const os of ctx.oses) virtualboxBoot(s.firmware, os);
    },
    isoBuilder: "virtualbox-iso",
    format: "box",
    // The box's packaged Vagrantfile.
    conversionFiles: ["templates/vagrant"],
    // EFI only: BIOS is VirtualBox's default, and the boxes made before said nothing.
    conversionOptions: (s, os) => (virtualboxBoot(s.firmware, os).firmware === "uefi" ? ["--firmware", "efi"] : []),
    firstBoot,
    boot: (s, os) => virtualboxBoot(s.firmware, os),
    outputs: ["boxPath", "catalogPath"],
    publish: (a) => {
        const box = new VagrantBox(a.name, {
            ...publishInputs(a),
            target: a.seedPath("box"),
            catalog: `artifacts/${a.os.vm_name}.json`,
            boxName: a.settings.boxName ?? `${a.site.namespace}/${a.os.vm_name}`,
            catalogUrl: a.settings.catalogUrl,
        });
        return { boxPath: box.boxPath, catalogPath: box.catalogPath };
    },
});
