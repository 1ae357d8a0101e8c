// vSphere as a fresh VM of the OVA sees it: the OVF environment (the OVA's ProductSection
// properties: instance id, host name, public key) on a CD-ROM, vSphere's ISO transport of vApp
// properties, read by cloud-init's OVF datasource. The disk is on the SATA controller the OVF
// declares, so the controller choice is tested too.
import * as fs from "fs";
import * as path from "path";
import { exec } from "../../firstboot/exec";
import { Check, VmFirstBoot } from "../../firstboot/mechanism";
import { cloudInitRanFrom } from "../../firstboot/cloud-init";
import { makeIso, xml } from "../../firstboot/media";

const CONTRACT: Check[] = [
    { name: "open-vm-tools enabled", run: { Debian: "systemctl is-enabled open-vm-tools", RedHat: "systemctl is-enabled vmtoolsd" } },
    { name: "cloud-init enabled", run: "systemctl is-enabled cloud-init.service" },
    cloudInitRanFrom("ovf", "ovf", "the OVF environment"),
    {
        name: "the SATA and PVSCSI drivers in the initramfs",
        run: {
            Debian: "l=$(lsinitramfs /boot/initrd.img-$(uname -r)); for m in ahci vmw_pvscsi; do echo \"$l\" | grep -q \"/$m\\.ko\" || exit 1; done",
            RedHat: "l=$(lsinitrd /boot/initramfs-$(uname -r).img); for m in ahci vmw_pvscsi; do echo \"$l\" | grep -q \"/$m\\.ko\" || exit 1; done",
        },
    },
];

/** The OVA's descriptor declares what vSphere needs for the ISO transport: the properties and a CD-ROM. */
async function checkOva(ova: string, work: string): Promise<void> {
    const dir = path.join(work, "ova");
    fs.mkdirSync(dir, { recursive: true });
    const x = await exec("tar", ["-xf", ova, "-C", dir, "--wildcards", "*.ovf"]);
    if (x.code !== 0) throw new Error(`tar -xf ${ova}: ${x.stderr}`);
    const ovf = fs.readFileSync(path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith(".ovf"))!), "utf8");
    const missing = [
        [/<VirtualHardwareSection ovf:transport="iso"/, "ovf:transport=\"iso\""],
        [/<Property ovf:key="public-keys"[^>]*ovf:userConfigurable="true"/, "a user-configurable public-keys property"],
        [/<rasd:ResourceType>15<\/rasd:ResourceType>/, "a CD-ROM"],
        [/<rasd:ResourceSubType>vmware\.sata\.ahci<\/rasd:ResourceSubType>/, "the SATA controller"],
    ].filter(([re]) => !(re as RegExp).test(ovf));
    if (missing.length) throw new Error(`the OVA's descriptor lacks ${missing.map(([, what]) => what).join(", ")}`);
}

export const firstBoot: VmFirstBoot = {
    kind: "vm",
    tools: ["genisoimage"],
    bus: "sata",
    drivers: ["vmw_pvscsi", "vmxnet3", "nvme"],
    graceSec: 120,
    // cloud-init reads the OVF environment and installs the key.
    wayIn: [["cloud-init.service"]],
    play: async (g) => ({
        user: g.defaultUser,
        login: "OVF environment (vSphere ISO transport) public-keys",
        cdroms: [
            await makeIso(path.join(g.work, "ovf-env.iso"), "OVF ENV", {
                "ovf-env.xml": `<?xml version="1.0" encoding="UTF-8"?>
<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:oe="http://schemas.dmtf.org/ovf/environment/1" xmlns:ve="http://www.vmware.com/schema/ovfenv" oe:id="">
  <PlatformSection><Kind>VMware ESXi</Kind><Version>8.0.0</Version><Vendor>VMware, Inc.</Vendor><Locale>en</Locale></PlatformSection>
  <PropertySection>
    <Property oe:key="instance-id" oe:value="${xml(g.instanceId)}"/>
    <Property oe:key="hostname" oe:value="${xml(g.hostname.split(".")[0])}"/>
    <Property oe:key="public-keys" oe:value="${xml(g.publicKey)}"/>
  </PropertySection>
</Environment>
`,
            }),
        ],
        setsHostname: true,
    }),
    contract: CONTRACT,
    checkArtifact: checkOva,
};
