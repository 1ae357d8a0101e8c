// Addresses no build may reach, and mirror URLs a build can: checked where a mirror is
// configured (the site's repo_server, a provider's mirror setting) and again by the proxy.
import * as net from "net";

type Family = "ipv4" | "ipv6";

/**
 * What an address can never be, whatever the config says, and why. Checked with Node's
 * BlockList, which also matches an IPv4 rule against its IPv4-mapped IPv6 forms
 * (`::ffff:169.254.169.254`, `::ffff:a9fe:a9fe`): a DNS answer of that form reaches the IPv4
 * address on a dual-stack socket.
 */
const FORBIDDEN: ReadonlyArray<readonly [why: string, network: string, prefix: number, family: Family]> = [
    // Every cloud's instance metadata service is in 169.254.0.0/16 (AWS, Azure, GCP, OpenStack).
    ["link-local (instance metadata)", "169.254.0.0", 16, "ipv4"],
    ["instance metadata (AWS IPv6)", "fd00:ec2::254", 128, "ipv6"],
    ["instance metadata (Alibaba Cloud)", "100.100.100.200", 32, "ipv4"],
    // Azure's WireServer (the VM agent's endpoint: certificates, extensions, health reports).
    ["Azure WireServer", "168.63.129.16", 32, "ipv4"],
    // The metadata service through a NAT64 gateway (RFC 6052's well-known prefix).
    ["link-local through NAT64 (instance metadata)", "64:ff9b::a9fe:0", 112, "ipv6"],
    ["unspecified", "0.0.0.0", 8, "ipv4"],
    ["multicast or reserved", "224.0.0.0", 3, "ipv4"],
    ["unspecified", "::", 128, "ipv6"],
    ["link-local", "fe80::", 10, "ipv6"],
    ["multicast", "ff00::", 8, "ipv6"],
];

const rules = FORBIDDEN.map(([why, network, prefix, family]) => {
    const list = new net.BlockList();
    list.addSubnet(network, prefix, family);
    return [why, list] as const;
});

const familyOf = (address: string): Family | undefined => (net.isIPv4(address) ? "ipv4" : net.isIPv6(address) ? "ipv6" : undefined);

/** Why no build may reach this IP address, or undefined when it may. */
export function forbiddenAddress(address: string): string | undefined {
    const family = familyOf(address);
    return family && rules.find(([, list]) => list.check(address, family))?.[0];
}

const loopback = new net.BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

/** This machine's loopback (127.0.0.0/8, ::1, and their IPv4-mapped forms). */
export function isLoopback(address: string): boolean {
    const family = familyOf(address);
    return family !== undefined && loopback.check(address, family);
}

/** What keeps a build from using this mirror URL through its proxy, or undefined. */
export function mirrorProblem(url: string): string | undefined {
    let u: URL;
    try {
        u = new URL(url);
    } catch {
        return "is not a URL; valid: an http:// or https:// URL";
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
        return `is ${u.protocol.slice(0, -1)}; a build reaches its mirrors through an HTTP proxy, valid: http:// or https://`;
    }
    const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
    const bad = net.isIP(host) ? forbiddenAddress(host) : undefined;
    return bad ? `names a ${bad} address, which no build may reach` : undefined;
}
