// Where a QEMU build's guest finds the build proxy: QEMU forwards this address of its restricted
// network to the proxy (templates/locals.pkr.hcl, the netdev). A VirtualBox or VMware ISO build
// runs on its hypervisor's NAT, without the proxy.
import type { IsoBuilder } from "../providers/provider";

export const GUEST_PROXY = "http://10.0.2.100:3128";

/** The proxy an installer run by this builder reaches its repositories through ("" for none). */
export function installProxy(builder: IsoBuilder): string {
    return builder === "qemu" ? GUEST_PROXY : "";
}
