// The kickstart server for Packer and PXE-booted metal hosts:
//   npm run ks-server -- [--port 8000] [--address 127.0.0.1] [--ssh-key PATH]
// Loopback by default; --address 0.0.0.0 (or the PXE network's address) to serve hosts.
// Exit 0 after SIGINT/SIGTERM, 2 bad input, 1 when it cannot listen.
import * as fs from "fs";
import { matches, parseOrExit, runMain } from "../components/cli/args";
import { missingBuildKeyWarning } from "../components/kickstart/keys";
import { createKsServer, serveUntilSignal } from "../components/kickstart/server";
import { providerNames } from "../components/providers";

const PROGRAM = { name: "ks-server", run: "npm run ks-server --" };
const SPEC = {
    summary: "Serves kickstarts over HTTP (GET /ks.cfg or /ks.php ?build=<type>/<name>&os=<os>) until SIGINT or SIGTERM.",
    options: {
        port: { help: "the port (0: any free one; default 8000)", value: "N", check: matches((p) => /^\d{1,5}$/.test(p) && Number(p) <= 65535, "a port number (0-65535)") },
        address: { help: "the address to listen on (default 127.0.0.1; 0.0.0.0 or the PXE network's to serve hosts)", value: "A" },
        "ssh-key": { help: "the build's public key for virtual builds (default: keys/packer.pub)", value: "PATH", check: (f: string) => (fs.statSync(f, { throwIfNoEntry: false })?.isFile() ? undefined : `${f} is not a file`) },
    },
    examples: ["npm run ks-server", "npm run ks-server -- --address 0.0.0.0 --port 8080"],
} as const;

runMain(PROGRAM, async () => {
    const { values } = parseOrExit(PROGRAM, SPEC, process.argv.slice(2));
    const opts = { providers: providerNames(), sshPublicKeyFile: values["ssh-key"] };
    const warning = missingBuildKeyWarning(opts);
    if (warning) process.stderr.write(`ks-server: ${warning}\n`);
    await serveUntilSignal(createKsServer(opts), Number(values.port ?? "8000"), values.address ?? "127.0.0.1");
});
