// The image the docker publisher pushes — the conversion's Dockerfile and context — built by a
// real container runtime (podman) and run: once with its own CMD as its default user (what
// `docker run IMAGE` does), then every check of the contract as a user that is not root. No
// runtime, no test: a chroot would run nothing of what the image's users run. The image that
// passed is kept as an archive (TESTED_ARCHIVE) that the publisher loads and pushes: the image
// pushed is the one tested, the same id.
import { exec, sha256File } from "./exec";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { Log } from "../progress";
import { Check, CheckResult, ContainerFirstBoot, RunIn, runCheckList } from "./mechanism";

/** A command's exit code and its output (stdout then stderr). */
async function run(cmd: string, args: string[], input?: string): Promise<{ code: number | null; out: string }> {
    const r = await exec(cmd, args, 600_000, input);
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

/** The image a test built: podman's id (its config's digest) and the tag it carries in its archive. */
export interface TestedImage {
    readonly id: string;
    readonly ref: string;
}

/** The tested image, saved (docker-archive, gzip) beside the test's report: what the publisher loads. */
export const TESTED_ARCHIVE = "image.tar.gz";

/** The tag the tested image carries in its archive (a name of its own id: no registry's). */
export const testedRef = (id: string) => `localhost/gold-tested:${id.replace(/^sha256:/, "").slice(0, 12)}`;
export const TESTED_TAG = /^localhost\/gold-tested:[0-9a-f]{12}$/;

export const NO_RUNTIME = "install a container runtime to test the docker image: podman (Debian/Ubuntu: apt-get install podman; EL: dnf install podman)";

/** The build context the publisher uses: its Dockerfile beside the root file system. */
function context(rootfs: string, dockerfile: string, work: string): string {
    const dir = path.join(work, "context");
    fs.mkdirSync(dir);
    fs.copyFileSync(dockerfile, path.join(dir, "Dockerfile"));
    try {
        fs.linkSync(rootfs, path.join(dir, "rootfs.tar.gz"));
    } catch {
        fs.copyFileSync(rootfs, path.join(dir, "rootfs.tar.gz"));
    }
    return dir;
}

/**
 * Builds `dockerfile` with `rootfs` as the publisher does (same Dockerfile, same `fb.buildArgs`),
 * runs the image with its own CMD and default user, then `fb.contract` as uid 65534; when every
 * check passed and `keep` is given, saves the image there (TESTED_ARCHIVE, tagged testedRef).
 * Throws when no runtime can run here.
 */
export async function runContainer(rootfs: string, dockerfile: string, fb: ContainerFirstBoot, work: string, log?: Log, keep?: string): Promise<{ login: string; checks: CheckResult[]; image: TestedImage }> {
    const version = await run("podman", ["--version"]).catch((e: Error) => ({ code: -1, out: e.message }));
    if (version.code !== 0) throw new Error(`no container runtime: podman: ${version.out.trim().split("\n").pop()}; ${NO_RUNTIME}`);
    const image = `localhost/gold-first-boot:${randomBytes(4).toString("hex")}`;
    const sha256 = await sha256File(rootfs);
    log?.(`building the image the publisher pushes (its Dockerfile, ${path.basename(rootfs)}) with ${version.out.trim()}`);
    const built = await run("podman", [...PODMAN, "build", ...fb.buildArgs(sha256), "-t", image, context(rootfs, dockerfile, work)]);
    if (built.code !== 0) throw new Error(`podman build of the publisher's Dockerfile failed (exit ${built.code}): ${built.out.trim().split("\n").slice(-5).join(" ")}`);
    try {
        const inspected = await run("podman", [...PODMAN, "image", "inspect", "--format", "{{.Id}} {{json .Config.Cmd}} {{json .Config.User}}", image]);
        const [id, cmd, user] = inspected.out.trim().split(" ");
        const podman = (args: string[], input?: string) =>
            run("unshare", ["-m", "--propagation", "private", "sh", "-c", `umount /sys/fs/cgroup/unified 2>/dev/null; exec podman ${PODMAN.join(" ")} run --rm --network none ${LIMITS.join(" ")} ${args.map(shq).join(" ")}`], input);
        // `docker run IMAGE`: its CMD (a shell) reads commands from stdin, as its default user.
        const own = await podman(["-i", image], 'echo "gold-cmd-ran uid=$(id -u)"\n');
        const ranAs = /gold-cmd-ran uid=(\d+)/.exec(own.out)?.[1];
        const cmdCheck: CheckResult = own.code === 0 && ranAs !== undefined
            ? { name: `its own CMD (${cmd}) starts as its default user (${JSON.parse(user || '""') || "root"}, uid ${ranAs})`, ok: true }
            : { name: `its own CMD (${cmd}) starts as its default user`, ok: false, detail: `exit ${own.code}: ${own.out.trim().slice(-400)}` };
        log?.(`${cmdCheck.ok ? "check passed" : "check FAILED"}: ${cmdCheck.name}`);
        const inContainer = (command: string) => podman(["--user", USER, image, "/bin/sh", "-c", command]);
        const login = `podman build of the publisher's Dockerfile (image ${id.slice(0, 19)}), run with its CMD, then as uid 65534`;
        const checks = [cmdCheck, ...(await checksWith(fb.contract, inContainer, log))];
        if (keep && checks.every((c) => c.ok)) await saveTested(image, id, path.join(keep, TESTED_ARCHIVE), log);
        return { login, checks, image: { id, ref: testedRef(id) } };
    } finally {
        await run("podman", [...PODMAN, "rmi", "-f", image]);
    }
}

/** The tested image as a docker-archive (what `docker load` reads), gzip'd, tagged with its own id. */
async function saveTested(image: string, id: string, archive: string, log?: Log): Promise<void> {
    const ref = testedRef(id);
    log?.(`saving the tested image for the publisher (${path.basename(archive)}, ${ref})`);
    const tagged = await run("podman", [...PODMAN, "tag", image, ref]);
    if (tagged.code !== 0) throw new Error(`podman tag: ${tagged.out.trim()}`);
    try {
        const saved = await run("bash", ["-c", `set -o pipefail; podman ${PODMAN.join(" ")} save --format docker-archive ${shq(ref)} | gzip -1 > ${shq(archive)}`]);
        if (saved.code !== 0) throw new Error(`podman save of the tested image failed (exit ${saved.code}): ${saved.out.trim().slice(-400)}`);
    } finally {
        await run("podman", [...PODMAN, "untag", ref]);
    }
}

async function checksWith(contract: readonly Check[], run: RunIn, log?: Log): Promise<CheckResult[]> {
    const family = (await run("test -f /etc/debian_version")).code === 0 ? "Debian" : "RedHat";
    return runCheckList(contract, family, run, log);
}
