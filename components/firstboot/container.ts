// A root file system run as a container by a real runtime (podman), as a user that is not root;
// where no runtime can run (no podman, not root), a chroot, and the result says so.
import { exec } from "./exec";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { Log } from "../progress";
import { Check, CheckResult, RunIn, runCheckList } from "./mechanism";

/** A command's exit code and its output (stdout then stderr). */
async function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string }> {
    const r = await exec(cmd, args);
    return { code: r.code, out: r.stdout + r.stderr };
}

// podman on a host with cgroup v1 and a hybrid cgroup2 mount, PID 1 not systemd (these CI
// machines): cgroupfs, file events, limits below the host's, and cgroup2 hidden from crun in a
// mount namespace of its own. Harmless where none of that is needed.
const PODMAN = ["--cgroup-manager=cgroupfs", "--events-backend=file"];
const LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1000:1000"];
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The uid checks run as: nobody (65534), a user every root file system has. */
const USER = "65534:65534";

export async function runContainer(rootfs: string, contract: readonly Check[], work: string, log?: Log): Promise<{ login: string; checks: CheckResult[] }> {
    const image = `localhost/gold-first-boot:${randomBytes(4).toString("hex")}`;
    const imported = await run("podman", [...PODMAN, "import", rootfs, image]).catch((e: Error) => ({ code: -1, out: e.message }));
    if (imported.code === 0) {
        try {
            const inContainer = (command: string) =>
                run("unshare", ["-m", "--propagation", "private", "sh", "-c", `umount /sys/fs/cgroup/unified 2>/dev/null; exec podman ${PODMAN.join(" ")} run --rm --network none ${LIMITS.join(" ")} --user ${USER} ${image} /bin/sh -c ${shq(command)}`]);
            const probe = await inContainer("id -u");
            if (probe.code === 0) {
                const login = `podman (uid ${probe.out.trim()})`;
                log?.(`running in ${login}`);
                return { login, checks: await checksWith(contract, inContainer, log) };
            }
        } finally {
            await run("podman", [...PODMAN, "rmi", "-f", image]);
        }
    }
    // No container runtime could run here: the same checks in a chroot of the root file system.
    const root = path.join(work, "rootfs");
    fs.mkdirSync(root);
    const x = await run("tar", ["-xzf", rootfs, "-C", root, "--numeric-owner", "--same-permissions"]);
    if (x.code !== 0) throw new Error(`tar -x ${rootfs}: ${x.out}`);
    const inChroot = (command: string) => run("chroot", ["--userspec", USER, root, "/bin/sh", "-c", command]);
    const login = `chroot (no container runtime could run here: ${imported.out.trim().split("\n").pop()})`;
    log?.(`running in a ${login}`);
    return { login, checks: await checksWith(contract, inChroot, log) };
}

async function checksWith(contract: readonly Check[], run: RunIn, log?: Log): Promise<CheckResult[]> {
    const family = (await run("test -f /etc/debian_version")).code === 0 ? "Debian" : "RedHat";
    return runCheckList(contract, family, run, log);
}
