import * as pulumi from "@pulumi/pulumi";
import { PublishInputs } from "../../publish/names";
import { placeArtifact } from "../../publish/local-artifact";

export interface VmwareOvaArgs extends PublishInputs {
    /** Where the OVA goes: the seed's artifacts/<version>/<vm_name>/vmware/<name>.ova. */
    readonly target: string;
}

/**
 * The OVA (OVF + SHA256 manifest + streamOptimized VMDK) at the seed's path, ready for vSphere
 * ("Deploy OVF Template") or `govc import.ova`; ovftool is not free, so no upload is automated.
 */
export class VmwareOva extends pulumi.ComponentResource {
    public readonly ovaPath: pulumi.Output<string>;

    constructor(name: string, args: VmwareOvaArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gold:publish:VmwareOva", name, {}, opts);
        this.ovaPath = placeArtifact(`${name}-ova`, args, args.target, this);
        this.registerOutputs({ ovaPath: this.ovaPath });
    }
}
