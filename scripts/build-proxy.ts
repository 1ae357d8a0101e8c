// A build's only way out of its restricted network (components/isolation):
//   build-proxy.ts run -- packer build [options] templates
//     starts the allow-list proxy for that build (its hosts: the mirrors the command's Packer
//     variables name), runs the command with PKR_VAR_build_proxy_port (QEMU's guestfwd relays
//     the guest's 10.0.2.100:3128 there) and GOLD_BUILD_PROXY_SOCKET (a chroot build's way out
//     of its network namespace), and exits with the command's status. scripts/packer-build.sh
//     runs every QEMU and chroot build so.
//   build-proxy.ts forward --socket PATH -- COMMAND...
//     inside a network namespace: 127.0.0.1:3128 relays to the proxy's socket while COMMAND runs.
// Signals reach the command through its process group (packer-build.sh signals the group); this
// process waits for it. Exit 2 for bad input (a mirror URL the proxy cannot serve), else the
// command's status (128 + signal when it was killed).
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { matches, parseSubcommandOrExit, runMain, UsageError } from "../components/cli/args";
import { allowList, packerVariables } from "../components/isolation/allow-list";
import { forwardToSocket } from "../components/isolation/forward";
import { startProxy } from "../components/isolation/proxy";

const PROGRAM = {
    name: "build-proxy",
    run: "ts-node scripts/build-proxy.ts",
    summary: "Runs a build behind its allow-list proxy (run), or relays a network namespace's 127.0.0.1:3128 to it (forward).",
    examples: [
        "ts-node scripts/build-proxy.ts run -- packer build -only=qemu.base -var-file=templates/os/Rocky-9.8.pkrvars.hcl templates",
        "ts-node scripts/build-proxy.ts forward --socket /tmp/gold-proxy-x/proxy.sock -- ansible-playbook ...",
    ],
};
const COMMAND = { name: "COMMAND", help: "the command to run (after --)" };
const COMMANDS = {
    run: {
        summary: "Starts the proxy with the mirrors of the command's Packer variables (-var-file, -var) and runs the command.",
        options: {},
        positionals: COMMAND,
        examples: [PROGRAM.examples[0]],
    },
    forward: {
        summary: "Relays 127.0.0.1:PORT (in this network namespace) to the proxy's Unix socket while the command runs.",
        options: {
            socket: { help: "the proxy's Unix socket (GOLD_BUILD_PROXY_SOCKET)", required: true, value: "PATH", example: "/tmp/gold-proxy-x/proxy.sock" },
            port: { help: "the port to listen on (default 3128)", value: "PORT", check: matches(/^[1-9][0-9]{0,4}$/, "a port number") },
        },
        positionals: COMMAND,
        examples: [PROGRAM.examples[1]],
    },
} as const;

/** Runs the command; resolves with its exit status (128 + signal number when a signal ended it). */
function runChild(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
    // Stopping is the command's business (it gets the group's signal): this process outlives it.
    for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, () => undefined);
    return new Promise((resolve) => {
        const child = spawn(argv[0], argv.slice(1), { stdio: "inherit", env });
        child.on("error", (e) => {
            process.stderr.write(`build-proxy: ${argv[0]}: ${e.message}\n`);
            resolve(127);
        });
        child.on("exit", (code, signal) => resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0)));
    });
}

const log = (line: string) => process.stderr.write(line + "\n");

runMain(PROGRAM, async () => {
    const { command, values, positionals } = parseSubcommandOrExit(PROGRAM, COMMANDS, process.argv.slice(2));
    if (positionals.length === 0) throw new UsageError("a command to run is required after --");
    if (command === "forward") {
        const v = values as { socket: string; port?: string };
        const server = await forwardToSocket("127.0.0.1", Number(v.port ?? 3128), v.socket);
        process.exitCode = await runChild(positionals, process.env);
        server.close();
        return;
    }
    let allow;
    try {
        allow = allowList(packerVariables(positionals));
    } catch (e) {
        throw new UsageError((e as Error).message);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gold-proxy-"));
    const socket = path.join(dir, "proxy.sock");
    const proxy = await startProxy({ allow, log, socket });
    log(`build-proxy: the build reaches only ${allow.map((a) => `${a.host}:${a.port}`).join(", ") || "nothing"} (guest proxy 10.0.2.100:3128 -> 127.0.0.1:${proxy.port})`);
    try {
        process.exitCode = await runChild(positionals, { ...process.env, PKR_VAR_build_proxy_port: String(proxy.port), GOLD_BUILD_PROXY_SOCKET: socket });
    } finally {
        log(`build-proxy: ${proxy.refused()} connection(s) refused`);
        await proxy.close();
        fs.rmSync(dir, { recursive: true, force: true });
    }
});
