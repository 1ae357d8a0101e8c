// Azure as a fresh VM sees it: the chassis asset tag Azure sets, the provisioning media (an
// ISO holding ovf-env.xml with the user, host name and key), the instance metadata service at
// 169.254.169.254 (where cloud-init takes the key: compute.publicKeys), and a wire server at
// 168.63.129.16 that gives a goal state and accepts the "ready" report. The OS disk is IDE, as
// a generation-1 VM boots it.
import * as path from "path";
import type * as http from "http";
import { Check, CheckResult, Guest, VmFirstBoot, reply } from "../../firstboot/mechanism";
import { cloudInitRanFrom } from "../../firstboot/cloud-init";
import { makeIso, xml } from "../../firstboot/media";

const USER = "azureuser";
const ASSET_TAG = "7783-7084-3265-9085-8269-3286-77";

function ovfEnv(g: Guest): string {
    return `<?xml version="1.0" encoding="utf-8"?>
<ns0:Environment xmlns:ns0="http://schemas.dmtf.org/ovf/environment/1" xmlns:ns1="http://schemas.microsoft.com/windowsazure">
 <ns1:ProvisioningSection><ns1:Version>1.0</ns1:Version>
  <ns1:LinuxProvisioningConfigurationSet>
   <ns1:ConfigurationSetType>LinuxProvisioningConfiguration</ns1:ConfigurationSetType>
   <ns1:HostName>${xml(g.hostname.split(".")[0])}</ns1:HostName>
   <ns1:UserName>${USER}</ns1:UserName>
   <ns1:DisableSshPasswordAuthentication>true</ns1:DisableSshPasswordAuthentication>
   <ns1:SSH><ns1:PublicKeys><ns1:PublicKey>
    <ns1:Fingerprint>0000000000000000000000000000000000000000</ns1:Fingerprint>
    <ns1:Path>/home/${USER}/.ssh/authorized_keys</ns1:Path>
    <ns1:Value>${xml(g.publicKey)}</ns1:Value>
   </ns1:PublicKey></ns1:PublicKeys></ns1:SSH>
  </ns1:LinuxProvisioningConfigurationSet>
 </ns1:ProvisioningSection>
 <ns1:PlatformSettingsSection><ns1:Version>1.0</ns1:Version>
  <ns1:PlatformSettings><ns1:ProvisionGuestAgent>true</ns1:ProvisionGuestAgent></ns1:PlatformSettings>
 </ns1:PlatformSettingsSection>
</ns0:Environment>
`;
}

/** The instance metadata service (header "Metadata: true"): the VM's profile and its key. */
export function instanceMetadata(g: Guest): http.RequestListener {
    const compute = {
        name: g.hostname.split(".")[0],
        vmId: g.uuid,
        location: "westeurope",
        osType: "Linux",
        osProfile: { adminUsername: USER, computerName: g.hostname.split(".")[0], disablePasswordAuthentication: "true" },
        publicKeys: [{ keyData: g.publicKey, path: `/home/${USER}/.ssh/authorized_keys` }],
    };
    return (req, res) => {
        if (req.headers.metadata !== "true") return reply(res, 400, "Required metadata header not specified");
        const url = new URL(req.url ?? "/", "http://169.254.169.254");
        const json = (v: unknown) => reply(res, 200, JSON.stringify(v), { "Content-Type": "application/json" });
        if (url.pathname === "/metadata/instance") return json({ compute, network: { interface: [] } });
        if (url.pathname === "/metadata/instance/compute") return json(compute);
        return reply(res, 404, "");
    };
}

/** A health report the guest posted to the wire server (what Azure waits for before "succeeded"). */
export interface HealthReport {
    readonly incarnation?: string;
    readonly containerId?: string;
    readonly instanceId?: string;
    readonly state?: string;
}

/** The fields of a health report (`POST /machine?comp=health`), as cloud-init and the agent write it. */
export function parseHealth(body: string): HealthReport {
    const field = (tag: string) => new RegExp(`<${tag}>\\s*([^<]*?)\\s*</${tag}>`).exec(body)?.[1];
    return { incarnation: field("GoalStateIncarnation"), containerId: field("ContainerId"), instanceId: field("InstanceId"), state: field("State") };
}

/**
 * The wire server: versions, a goal state without certificates, and the reports: each health
 * report is parsed into `reports` (Azure fails a VM that never reports Ready for its goal state).
 */
export function wireServer(g: Guest, reports: HealthReport[] = []): http.RequestListener {
    const role = `gold-${g.instanceId.slice(2, 10)}`;
    const config = (type: string) => `http://168.63.129.16:80/machine/${g.uuid}/${g.instanceId}?comp=config&amp;type=${type}&amp;incarnation=1`;
    // The documents WALinuxAgent fetches before it provisions (the EL family) or handles
    // extensions; no Certificates: Azure names none for a VM without certificates (a key-only
    // VM's key is in ovf-env.xml and IMDS).
    const goalState = `<?xml version="1.0" encoding="utf-8"?>
<GoalState xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Version>2012-11-30</Version><Incarnation>1</Incarnation>
 <Machine><ExpectedState>Started</ExpectedState><StopRolesDeadlineHint>300000</StopRolesDeadlineHint></Machine>
 <Container><ContainerId>${g.uuid}</ContainerId><RoleInstanceList><RoleInstance><InstanceId>${g.instanceId}</InstanceId>
  <State>Started</State>
  <Configuration><HostingEnvironmentConfig>${config("hostingEnvironmentConfig")}</HostingEnvironmentConfig><SharedConfig>${config("sharedConfig")}</SharedConfig><ConfigName>${g.instanceId}.1.xml</ConfigName></Configuration>
 </RoleInstance></RoleInstanceList></Container>
</GoalState>
`;
    const deployment = `<Deployment name="${g.uuid.replace(/-/g, "")}" guid="{${g.uuid}}" incarnation="1"><Service name="${role}" guid="{00000000-0000-0000-0000-000000000000}" /><ServiceInstance name="${g.uuid.replace(/-/g, "")}.0" guid="{${g.uuid}}" /></Deployment>`;
    const documents: Record<string, string> = {
        hostingEnvironmentConfig: `<?xml version="1.0" encoding="utf-8"?>
<HostingEnvironmentConfig version="1.0.0.0" goalStateIncarnation="1"><StoredCertificates />${deployment}<Incarnation number="1" instance="${role}" guid="{${g.uuid}}" /><Role guid="{${g.uuid}}" name="${role}" hostingEnvironmentVersion="1" software="" softwareType="ApplicationPackage" entryPoint="" parameters="" settleTimeSeconds="10" /></HostingEnvironmentConfig>
`,
        sharedConfig: `<?xml version="1.0" encoding="utf-8"?>
<SharedConfig version="1.0.0.0" goalStateIncarnation="1">${deployment}<Incarnation number="1" instance="${role}" guid="{${g.uuid}}" /><Role guid="{${g.uuid}}" name="${role}" settleTimeSeconds="0" /><Instances><Instance id="${role}" address="168.0.2.15"><FaultDomains randomId="0" updateId="0" updateCount="0" /><InputEndpoints /></Instance></Instances></SharedConfig>
`,
    };
    const versions = `<?xml version="1.0" encoding="utf-8"?>
<Versions><Preferred><Version>2012-11-30</Version></Preferred><Supported><Version>2012-11-30</Version></Supported></Versions>
`;
    return (req, res) => {
        const xmlReply = (body: string) => reply(res, 200, body, { "Content-Type": "text/xml; charset=utf-8" });
        const url = req.url ?? "";
        if (req.method === "POST") {
            let body = "";
            req.setEncoding("utf8");
            req.on("data", (d) => (body += body.length < 65536 ? d : ""));
            return req.on("end", () => {
                if (/comp=health/.test(url)) reports.push(parseHealth(body));
                reply(res, 200, "");
            });
        }
        if (url === "/?comp=versions") return xmlReply(versions);
        if (url.startsWith("/machine/?comp=goalstate") || url.startsWith("/machine?comp=goalstate")) return xmlReply(goalState);
        const doc = /^\/machine\/([^/]+)\/([^/?]+)\?comp=config&type=(\w+)&incarnation=1$/.exec(url);
        if (doc && doc[1] === g.uuid && doc[2] === g.instanceId && documents[doc[3]]) return xmlReply(documents[doc[3]]);
        return reply(res, 404, "");
    };
}

const CONTRACT: Check[] = [
    { name: "the Azure Linux agent enabled", run: { Debian: "systemctl is-enabled walinuxagent", RedHat: "systemctl is-enabled waagent" } },
    // Debian: cloud-init (waagent hands it provisioning); EL: the agent provisions itself.
    cloudInitRanFrom("azure", "azure", "Azure's provisioning media and metadata", "ls -l /var/lib/waagent/provisioned"),
    {
        name: "the Hyper-V drivers in the initramfs",
        run: {
            Debian: "l=$(lsinitramfs /boot/initrd.img-$(uname -r)); for m in hv_vmbus hv_storvsc hv_netvsc; do echo \"$l\" | grep -q \"/$m\\.ko\" || exit 1; done",
            RedHat: "l=$(lsinitrd /boot/initramfs-$(uname -r).img); for m in hv_vmbus hv_storvsc hv_netvsc; do echo \"$l\" | grep -q \"/$m\\.ko\" || exit 1; done",
        },
    },
    { name: "Azure's serial console settings", run: "grep -q 'console=ttyS0' /proc/cmdline && grep -q 'earlyprintk=ttyS0' /proc/cmdline" },
    { name: "no swap on the OS disk (the agent puts it on the resource disk)", run: "! grep -q '^/' /proc/swaps" },
    {
        name: "one owner of the resource disk: cloud-init where it provisions (Debian), else the agent",
        run: { Debian: "grep -qx 'ResourceDisk.Format=n' /etc/waagent.conf && grep -qx 'ResourceDisk.EnableSwap=n' /etc/waagent.conf", RedHat: "grep -qx 'ResourceDisk.Format=y' /etc/waagent.conf" },
    },
    {
        name: "accelerated networking's virtual function left unconfigured (systemd-networkd, /etc)",
        // networkd takes the first .network file (in name order) that matches: the VF's must come first.
        run: [
            "systemctl -q is-enabled systemd-networkd 2>/dev/null || exit 0",
            "for f in $(ls /etc/systemd/network/*.network 2>/dev/null | sort); do",
            "  if grep -q '^Driver=.*mlx5_core' \"$f\" && grep -qx 'Unmanaged=yes' \"$f\"; then exit 0; fi",
            "  if grep -qE '^Name=.*(en|eth)[*]' \"$f\"; then echo \"$f would configure the VF\"; exit 1; fi",
            "done",
            "echo 'no .network file leaves the VF unmanaged'; exit 1",
        ].join("\n"),
    },
];

/** Azure's verdict on provisioning: a Ready report for this goal state (incarnation 1, this container and instance). */
async function readyReported(g: Guest, reports: readonly HealthReport[]): Promise<CheckResult[]> {
    const ready = () => reports.some((r) => r.state === "Ready" && r.incarnation === "1" && r.containerId === g.uuid && r.instanceId === g.instanceId);
    // Checked once the guest's own checks are done: the agent reports Ready while it provisions,
    // long before that; a report still in flight gets 20 s (a missing one costs no more).
    for (let i = 0; i < 20 && !ready(); i++) await new Promise((r) => setTimeout(r, 1000));
    const name = "reported Ready to the wire server for this goal state (Azure fails the VM with OSProvisioningTimedOut otherwise)";
    return [ready() ? { name, ok: true } : { name, ok: false, detail: `reports seen: ${JSON.stringify(reports).slice(0, 400) || "none"}` }];
}

export const firstBoot: VmFirstBoot = {
    kind: "vm",
    tools: ["genisoimage"],
    bus: "ide",
    // Gen2 (Trusted Launch) v6 sizes: the OS disk on NVMe, the MANA NIC.
    uefiBus: "nvme",
    drivers: ["nvme", "mana", "hv_netvsc", "hv_storvsc"],
    graceSec: 180,
    // Provisioning: cloud-init (Debian), the Azure Linux agent where it provisions (EL).
    wayIn: [["cloud-init.service", "waagent.service"]],
    play: async (g) => {
        const reports: HealthReport[] = [];
        return {
            user: USER,
            login: "Azure provisioning media (ovf-env.xml) and IMDS compute.publicKeys, wire server ready report",
            // Azure's chassis asset tag is what cloud-init and the agent look for. Not the system's
            // "Microsoft Corporation" + "Virtual Machine": with it ata_piix leaves the IDE disks to
            // Hyper-V's storvsc (prefer_ms_hyperv), and QEMU has no VMBus: no root disk at all.
            smbios: [`type=3,manufacturer=Microsoft Corporation,asset=${ASSET_TAG}`],
            cdroms: [await makeIso(path.join(g.work, "azure-provisioning.iso"), "rd_rdfe_provisioning", { "ovf-env.xml": ovfEnv(g) })],
            services: [
                { ip: "169.254.169.254", port: 80, handler: instanceMetadata(g) },
                { ip: "168.63.129.16", port: 80, handler: wireServer(g, reports) },
            ],
            setsHostname: true,
            hostChecks: () => readyReported(g, reports),
        };
    },
    contract: CONTRACT,
};
