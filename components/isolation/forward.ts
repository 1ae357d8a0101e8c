// Inside a network namespace that has only loopback (a chroot build's), the build proxy is
// reached over its Unix socket: a socket file crosses network namespaces, TCP does not.
import * as net from "net";

/** Relays every connection to host:port (in this process's network namespace) to the Unix socket. */
export async function forwardToSocket(host: string, port: number, socket: string): Promise<net.Server> {
    const s = net.createServer((c) => {
        const up = net.connect(socket);
        c.pipe(up);
        up.pipe(c);
        c.on("error", () => up.destroy());
        up.on("error", () => c.destroy());
    });
    await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(port, host, () => resolve());
    });
    return s;
}
