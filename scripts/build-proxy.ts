// A build's only way out of its restricted network (components/isolation):
//   build-proxy.ts serve --ready DIR -- PACKER_OPTIONS...
//     serves the allow-list proxy for one build (its hosts: the mirrors its Packer variables
//     name, read from the -var-file and -var options given) on 127.0.0.1 and on DIR/proxy.sock,
//     then writes its port to DIR/port; until SIGTERM, SIGINT, or its parent is gone. Run by
//     scripts/isolated-build.sh, which runs the build beside it (the build's processes are never
//     this one's children: they keep the build's lock descriptors, which Node would not pass on).
//   build-proxy.ts forward --socket PATH [--port 3128]
//     inside a network namespace: relays its 127.0.0.1:3128 to the proxy's socket until SIGTERM.
// Exit 2 for bad input (a mirror URL the proxy cannot serve: the build does not start).
import * as fs from "fs";
import * as path from "path";
import { matches, parseSubcommandOrExit, runMain, UsageError } from "../components/cli/args";
import { allowList, packerVariables } from "../components/isolation/allow-list";
import { forwardToSocket } from "../components/isolation/forward";
import { startProxy } from "../components/isolation/proxy";

const PROGRAM = {
    name: "build-proxy",
    run: "ts-node scripts/build-proxy.ts",
    summary: "Serves a build's allow-list proxy (serve), or relays a network namespace's 127.0.0.1:3128 to it (forward).",
    examples: [
        "ts-node scripts/build-proxy.ts serve --ready /tmp/gold-proxy-x -- -only=qemu.base -var-file=templates/os/Rocky-9.8.pkrvars.hcl",
        "ts-node scripts/build-proxy.ts forward --socket /tmp/gold-proxy-x/proxy.sock",
    ],
};
const COMMANDS = {
    serve: {
        summary: "Serves the proxy for the mirrors of these Packer options (-var-file, -var); writes DIR/port when it listens.",
        options: {
            ready: { help: "an empty directory: the proxy's socket (DIR/proxy.sock) and, once it listens, its port (DIR/port)", required: true, value: "DIR", example: "/tmp/gold-proxy-x" },
        },
        positionals: { name: "PACKER_OPTIONS", help: "the build's Packer options (after --)" },
        examples: [PROGRAM.examples[0]],
    },
    forward: {
        summary: "Relays 127.0.0.1:PORT (in this network namespace) to the proxy's Unix socket until stopped.",
        options: {
            socket: { help: "the proxy's Unix socket (GOLD_BUILD_PROXY_SOCKET)", required: true, value: "PATH", example: "/tmp/gold-proxy-x/proxy.sock" },
            port: { help: "the port to listen on (default 3128)", value: "PORT", check: matches(/^[1-9][0-9]{0,4}$/, "a port number") },
        },
        examples: [PROGRAM.examples[1]],
    },
} as const;

const log = (line: string) => process.stderr.write(line + "\n");

/** Resolves at SIGTERM or SIGINT, or once the parent is gone (its build cannot need this any more). */
function stopped(): Promise<void> {
    const parent = process.ppid;
    return new Promise((resolve) => {
        for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, () => resolve());
        setInterval(() => process.ppid !== parent && resolve(), 1000).unref();
    });
}

runMain(PROGRAM, async () => {
    const { command, values, positionals } = parseSubcommandOrExit(PROGRAM, COMMANDS, process.argv.slice(2));
    if (command === "forward") {
        const v = values as { socket: string; port?: string };
        const server = await forwardToSocket("127.0.0.1", Number(v.port ?? 3128), v.socket);
        await stopped();
        server.close();
        process.exit(0);
    }
    const ready = (values as { ready: string }).ready;
    let allow;
    try {
        allow = allowList(packerVariables(positionals));
    } catch (e) {
        throw new UsageError((e as Error).message);
    }
    const proxy = await startProxy({ allow, log, socket: path.join(ready, "proxy.sock") });
    log(`build-proxy: the build reaches ${allow.length ? `only ${allow.map((a) => `${a.host}:${a.port}`).join(", ")}` : "nothing"} (guest proxy 10.0.2.100:3128 -> 127.0.0.1:${proxy.port})`);
    fs.writeFileSync(path.join(ready, "port.new"), String(proxy.port));
    fs.renameSync(path.join(ready, "port.new"), path.join(ready, "port"));
    await stopped();
    log(`build-proxy: ${proxy.refused()} connection(s) refused`);
    await proxy.close();
    process.exit(0);
});
