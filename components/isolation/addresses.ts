// Addresses no build may reach, and mirror URLs a build can: checked where a mirror is
// configured (the site's repo_server, a provider's mirror setting) and again by the proxy.
import * as net from "net";

/**
 * What an address can never be, whatever the config says: link-local (169.254.0.0/16 holds
 * every cloud's instance metadata service; fe80::/10), unspecified and multicast.
 */
export function forbiddenAddress(address: string): string | undefined {
    const v4 = net.isIPv4(address) ? address : address.toLowerCase().startsWith("::ffff:") && net.isIPv4(address.slice(7)) ? address.slice(7) : undefined;
    if (v4) {
        const [a, b] = v4.split(".").map(Number);
        if (a === 169 && b === 254) return "link-local (instance metadata)";
        if (a === 0) return "unspecified";
        if (a >= 224) return "multicast or reserved";
        return undefined;
    }
    if (net.isIPv6(address)) {
        const first = parseInt(address.split(":")[0] || "0", 16);
        if (/^::0*$/.test(address)) return "unspecified";
        if ((first & 0xffc0) === 0xfe80) return "link-local";
        if ((first & 0xff00) === 0xff00) return "multicast";
    }
    return undefined;
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
