// Compute Engine as a fresh instance sees it: GCE's identity in SMBIOS ("Google Compute
// Engine"), the metadata server at 169.254.169.254 (metadata.google.internal), answering only
// with "Metadata-Flavor: Google", holding the test's key in the instance's `ssh-keys`; the
// hostname from DHCP, as GCE gives it. The guest environment makes the user of the key.
import type * as http from "http";
import { Check, Guest, VmFirstBoot, reply } from "../../firstboot/mechanism";

const USER = "gold";

/** The metadata server: the paths cloud-init reads, and the guest agent's recursive (long) poll. */
export function metadataServer(g: Guest): http.RequestListener {
    const attributes = { "ssh-keys": `${USER}:${g.publicKey.split(/\s+/).slice(0, 2).join(" ")} ${USER}` };
    const all = {
        instance: {
            id: 4520031799277581759,
            name: g.hostname.split(".")[0],
            hostname: g.hostname,
            zone: "projects/123456789012/zones/us-central1-a",
            machineType: "projects/123456789012/machineTypes/e2-small",
            attributes,
            networkInterfaces: [{ mtu: 1460 }],
        },
        project: { projectId: "gold-first-boot", numericProjectId: 123456789012, attributes: {} },
    };
    const leaves: Record<string, string> = {
        "instance/id": String(all.instance.id),
        "instance/name": all.instance.name,
        "instance/hostname": g.hostname,
        "instance/zone": all.instance.zone,
        "instance/machine-type": all.instance.machineType,
        "project/project-id": all.project.projectId,
        "project/numeric-project-id": String(all.project.numericProjectId),
    };
    const etag = `gold-${g.instanceId}`;
    // GCE's server names itself on every answer, refusals and 404s too (clients check it).
    const flavor = { "Metadata-Flavor": "Google" };
    return (req, res) => {
        if (req.headers["metadata-flavor"] !== "Google") return reply(res, 403, "Missing Metadata-Flavor:Google header.", flavor);
        const url = new URL(req.url ?? "/", "http://metadata.google.internal");
        // GCE ignores repeated slashes: the guest agent (20211116, Debian 12's) polls
        // /computeMetadata/v1//?recursive=true (its base URL ends in "/", its query starts with "/?").
        const rest = url.pathname.replace(/\/{2,}/g, "/").replace(/^\/computeMetadata\/v1\/?/, "");
        const json = (v: unknown) => reply(res, 200, JSON.stringify(v), { "Content-Type": "application/json", ETag: etag, ...flavor });
        if (req.method === "PUT") return reply(res, 200, "", flavor); // guest attributes (host keys)
        if (rest === "" && url.searchParams.get("recursive") === "true") {
            // Nothing changes on this instance: a poll waiting for a change waits (as GCE does), in bounds.
            if (url.searchParams.get("wait_for_change") === "true" && url.searchParams.get("last_etag") === etag) {
                const seconds = Math.min(55, Number(url.searchParams.get("timeout_sec") ?? 55) || 55);
                const timer = setTimeout(() => json(all), seconds * 1000);
                req.socket.on("close", () => clearTimeout(timer));
                return;
            }
            return json(all);
        }
        if (/^(instance|project)\/attributes\/?$/.test(rest)) return json(rest.startsWith("instance") ? attributes : {});
        if (/^instance\/attributes\/./.test(rest)) {
            const v = (attributes as Record<string, string>)[rest.slice("instance/attributes/".length)];
            return v === undefined ? reply(res, 404, "", flavor) : reply(res, 200, v, flavor);
        }
        const leaf = leaves[rest.replace(/\/$/, "")];
        return leaf === undefined ? reply(res, 404, "", flavor) : reply(res, 200, leaf, flavor);
    };
}

/** The primary (first non-loopback) interface. */
const IFACE = "$(ip -o link | awk -F': ' '$2 != \"lo\" { print $2; exit }')";

const CONTRACT: Check[] = [
    { name: "the guest environment's agent enabled and running", run: "systemctl is-enabled google-guest-agent && systemctl is-active google-guest-agent" },
    { name: "metadata.google.internal is the metadata server", run: "getent hosts metadata.google.internal | grep -q '^169\\.254\\.169\\.254 '" },
    { name: "MTU 1460 on the primary interface (GCE's VPC)", run: `ip -o link show "${IFACE}" | grep -q 'mtu 1460 '` },
    { name: "serial console at 38400 (GCE's serial port)", run: "grep -q 'console=ttyS0,38400n8' /proc/cmdline" },
    { name: "Google's network sysctls", run: "[ \"$(sysctl -n net.ipv4.tcp_syncookies)\" = 1 ] && [ \"$(sysctl -n net.ipv4.conf.all.send_redirects)\" = 0 ]" },
];

export const firstBoot: VmFirstBoot = {
    kind: "vm",
    // GCE's default disk interface.
    bus: "scsi",
    // Shielded VMs of the current series (C3 and later): NVMe boot disk, gVNIC (IDPF on the newest).
    uefiBus: "nvme",
    drivers: ["nvme", "gve", "idpf", "virtio_scsi"],
    // The agent makes the user from its first poll after boot.
    graceSec: 240,
    // The guest agent installs the metadata's ssh-keys.
    wayIn: [["google-guest-agent.service"]],
    play: (g) => ({
        user: USER,
        login: "GCE metadata ssh-keys (guest agent)",
        smbios: [`type=1,manufacturer=Google,product=Google Compute Engine,serial=GoogleCloud-${g.uuid.replace(/-/g, "").toUpperCase()}`],
        services: [{ ip: "169.254.169.254", port: 80, handler: metadataServer(g) }],
        dhcpHostname: g.hostname.split(".")[0],
        setsHostname: true,
        // The guest agent's way: the users it makes from metadata keys sudo through this group.
        sudoGroups: ["google-sudoers"],
    }),
    contract: CONTRACT,
};
