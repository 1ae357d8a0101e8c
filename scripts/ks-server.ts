// The kickstart server for Packer and PXE-booted metal hosts:
//   npm run ks-server -- [--port 8000] [--address 127.0.0.1] [--ssh-key PATH]
// Loopback by default; --address 0.0.0.0 (or the PXE network's address) to serve hosts.
import { parseArgs } from "util";
import { createKsServer, serveUntilSignal } from "../components/kickstart/server";

const USAGE = "usage: npm run ks-server -- [--port N] [--address A] [--ssh-key PATH]";

async function main(argv: string[]): Promise<number> {
    let values;
    try {
        ({ values } = parseArgs({
            args: argv,
            strict: true,
            allowPositionals: false,
            options: { port: { type: "string" }, address: { type: "string" }, "ssh-key": { type: "string" }, help: { type: "boolean", short: "h" } },
        }));
    } catch (e) {
        process.stderr.write(`ks-server: ${(e as Error).message}\n${USAGE}\n`);
        return 2;
    }
    if (values.help) {
        process.stdout.write(USAGE + "\n");
        return 0;
    }
    const port = Number(values.port ?? "8000");
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
        process.stderr.write(`ks-server: --port '${values.port}' is not a port number\n`);
        return 2;
    }
    const server = createKsServer({ sshPublicKeyFile: values["ssh-key"] });
    try {
        await serveUntilSignal(server, port, values.address ?? "127.0.0.1");
    } catch (e) {
        process.stderr.write(`ks-server: ${(e as Error).message}\n`);
        return 1;
    }
    return 0;
}

main(process.argv.slice(2)).then((code) => (process.exitCode = code));
