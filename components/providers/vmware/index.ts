// VMware: an OVA (OVF + SHA256 manifest + streamOptimized VMDK) at the seed's path; its upload
// (vSphere's "Deploy OVF Template", govc import.ova) is the user's: ovftool is not free.
import { publishInputs } from "../../publish/names";
import { defineProvider } from "../provider";
import { firstBoot } from "./first-boot";
import { VmwareOva } from "./ova";

export default defineProvider({
    name: "vmware",
    title: "VMware",
    fields: {},
    requiredToPublish: [],
    isoBuilder: "vmware-iso",
    format: "ova",
    firstBoot,
    outputs: ["ovaPath"],
    publish: (a) => ({ ovaPath: new VmwareOva(a.name, { ...publishInputs(a), target: a.seedPath("ova") }).ovaPath }),
});
