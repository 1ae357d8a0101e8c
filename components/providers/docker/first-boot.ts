// The image the publisher builds (the conversion's Dockerfile and root file system), built and
// run by a real container runtime: with its own CMD as its default user, then as a user that is
// not root; what an image's users rely on must hold: setuid helpers still setuid, the package
// manager's database readable.
import { ContainerFirstBoot } from "../../firstboot/mechanism";

/** How the publisher builds the image (`docker build`), and the test the same (`podman build`): a new rootfs is a new image even when the tag is reused. */
export const buildArgs = (sha256: string): string[] => ["--platform", "linux/amd64", "--build-arg", `GOLD_ROOTFS_SHA256=${sha256}`];

export const firstBoot: ContainerFirstBoot = {
    kind: "container",
    // Written by scripts/convert.sh (format rootfs) beside the root file system.
    dockerfile: "context/Dockerfile",
    buildArgs,
    tools: ["podman"],
    contract: [
        { name: "commands run as a user that is not root", run: "[ \"$(id -u)\" != 0 ]" },
        { name: "setuid helpers kept their setuid bit (su)", run: "[ -u /usr/bin/su ] || [ -u /bin/su ]" },
        { name: "the package manager's database readable", run: { Debian: "dpkg-query -W dpkg >/dev/null", RedHat: "rpm -q rpm >/dev/null" } },
        { name: "no SSH host keys in the image", run: "! ls /etc/ssh/ssh_host_* 2>/dev/null" },
    ],
};
