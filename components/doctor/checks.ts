// What a machine needs before hours of building: each tool the stages run, found or not, its
// version, and how to get it. One table: `npm run doctor` prints it for a stack, and a stage
// that is about to build checks the rows it needs (components/store/run-stage.ts), so a
// missing tool fails in a second with its fix instead of an hour into a build.
import * as fs from "fs";
import * as path from "path";
import { exec } from "../firstboot/exec";
import { OVMF } from "../firstboot/vm";
import { recipePaths } from "../recipe/paths";

export interface Finding {
    readonly ok: boolean;
    /** The version found, as the tool prints it (first line, trimmed). */
    readonly version?: string;
    /** What was found or why it is not enough. */
    readonly detail?: string;
}

export interface ToolCheck {
    /** What it is, in the doctor's table. */
    readonly title: string;
    /** A missing optional tool is a warning (its stage degrades and says so), not a failure. */
    readonly optional?: boolean;
    /** How to get it (Debian first; other systems after). */
    readonly fix: string;
    readonly probe: () => Promise<Finding>;
}

/** The first line of `cmd args` matching `pattern` (stdout or stderr), or why there is none. */
async function versionOf(cmd: string, args: string[], pattern: RegExp): Promise<Finding> {
    let r;
    try {
        r = await exec(cmd, args, 20_000);
    } catch (e) {
        return { ok: false, detail: (e as NodeJS.ErrnoException).code === "ENOENT" ? `${cmd} is not on PATH` : (e as Error).message };
    }
    const line = `${r.stdout}\n${r.stderr}`.split("\n").find((l) => pattern.test(l));
    if (r.code !== 0 && !line) return { ok: false, detail: `${cmd} ${args.join(" ")} exited ${r.code}: ${r.stderr.trim().split("\n")[0] ?? ""}` };
    return { ok: true, version: (line ?? "").trim().slice(0, 80) || "found" };
}

/** Whether an executable of that name is on PATH. */
function onPath(cmd: string): boolean {
    return (process.env.PATH ?? "").split(":").some((dir) => {
        try {
            fs.accessSync(path.join(dir || ".", cmd), fs.constants.X_OK);
            return true;
        } catch {
            return false;
        }
    });
}

/** What scripts/chroot-variant.sh needs: root, a loop device, util-linux, the chroot connection. */
async function chrootVariants(): Promise<Finding> {
    if (process.getuid?.() !== 0) return { ok: false, detail: "not root: mounting a disk and chroot need root" };
    for (const cmd of ["losetup", "mount", "chroot", "partx", "findmnt"]) if (!onPath(cmd)) return { ok: false, detail: `${cmd} is not on PATH` };
    if (!fs.existsSync("/dev/loop-control")) return { ok: false, detail: "no /dev/loop-control (modprobe loop)" };
    // ansible-doc exits 0 with a warning when a plugin is missing: its page's title is the proof.
    const doc = await exec("ansible-doc", ["-t", "connection", "community.general.chroot"], 60_000).catch((e: Error) => ({ code: 127, stdout: "", stderr: e.message }));
    if (!/^> COMMUNITY\.GENERAL\.CHROOT\b/m.test(doc.stdout)) return { ok: false, detail: `Ansible's community.general.chroot connection not found: ${doc.stderr.trim().split("\n")[0] ?? ""}` };
    return { ok: true, version: "root, loop devices, community.general.chroot" };
}

/** Whether this process may open a device for reading and writing. */
function usable(device: string): boolean {
    try {
        fs.accessSync(device, fs.constants.R_OK | fs.constants.W_OK);
        return true;
    } catch {
        return false;
    }
}

/** The plugins templates/plugins/plugins.pkr.hcl requires (modern Packer loads builders as plugins). */
function requiredPlugins(): string[] {
    const text = fs.readFileSync(path.join(recipePaths().templates, "plugins", "plugins.pkr.hcl"), "utf8");
    return [...text.matchAll(/source\s*=\s*"github\.com\/hashicorp\/([a-z0-9-]+)"/g)].map((m) => m[1]);
}

async function packer(): Promise<Finding> {
    const found = await versionOf("packer", ["version"], /^Packer v?\d/);
    if (!found.ok) return found;
    const [major, minor] = (/(\d+)\.(\d+)/.exec(found.version ?? "") ?? []).slice(1).map(Number);
    // Before 1.7 the qemu, virtualbox, vmware and ansible components are built in.
    if (major === 1 && minor < 7) return { ...found, detail: "builders built in (no plugins to install)" };
    let listed = "";
    try {
        listed = (await exec("packer", ["plugins", "installed"], 20_000)).stdout;
    } catch {
        /* reported below as missing plugins */
    }
    const missing = requiredPlugins().filter((p) => !listed.includes(`hashicorp/${p}`));
    return missing.length
        ? { ...found, ok: false, detail: `plugins not installed: ${missing.join(", ")} (run: packer init templates/plugins/)` }
        : { ...found, detail: "plugins installed" };
}

async function kvm(): Promise<Finding> {
    if (!fs.existsSync("/dev/kvm")) return { ok: false, detail: "no /dev/kvm on this machine" };
    if (!usable("/dev/kvm")) return { ok: false, detail: "/dev/kvm exists but this user cannot open it" };
    return { ok: true, version: "/dev/kvm usable" };
}

async function ansibleForPython27(): Promise<Finding> {
    const found = await versionOf("ansible-playbook", ["--version"], /^ansible-playbook/);
    if (!found.ok) return found;
    const m = /core (\d+)\.(\d+)/.exec(found.version ?? "");
    if (m && (Number(m[1]) > 2 || Number(m[2]) > 16)) return { ...found, ok: false, detail: "EL7 targets run Python 2.7, which ansible-core 2.17+ cannot drive: use ansible-core 2.16 or older" };
    return found;
}

async function guestfish(): Promise<Finding> {
    const found = await versionOf("guestfish", ["--version"], /^guestfish/);
    if (!found.ok) return found;
    // libguestfs builds its appliance from the host's kernel: it must be there and readable.
    const kernels = fs.existsSync("/boot") ? fs.readdirSync("/boot").filter((f) => f.startsWith("vmlinuz")) : [];
    if (kernels.length === 0) return { ...found, ok: false, detail: "no kernel in /boot for its appliance (apt-get install linux-image-amd64)" };
    const readable = kernels.filter((k) => {
        try {
            fs.accessSync(path.join("/boot", k), fs.constants.R_OK);
            return true;
        } catch {
            return false;
        }
    });
    if (readable.length === 0) return { ...found, ok: false, detail: `this user cannot read ${kernels.map((k) => `/boot/${k}`).join(", ")} (Ubuntu ships them 0600: sudo chmod 0644 /boot/vmlinuz-*)` };
    return { ...found, detail: `appliance kernel /boot/${readable.sort().pop()}` };
}

async function buildKey(): Promise<Finding> {
    const key = path.join(recipePaths().keys, "packer");
    const missing = [key, `${key}.pub`].filter((f) => !fs.existsSync(f));
    if (missing.length) return { ok: false, detail: `${missing.join(" and ")} missing` };
    const mode = fs.statSync(key).mode & 0o077;
    if (mode) return { ok: false, detail: `${key} is readable by others (ssh refuses it): chmod 600 ${key}` };
    return { ok: true, version: fs.readFileSync(`${key}.pub`, "utf8").trim().split(/\s+/)[0] };
}

/** Where Vagrant's public insecure key is on this machine (the vagrant package ships it). */
export function vagrantInsecureKey(): string | undefined {
    const candidates = [process.env.VAGRANT_INSECURE_KEY, "/usr/share/vagrant/keys/vagrant"];
    const gems = "/usr/share/rubygems-integration/all/gems";
    if (fs.existsSync(gems)) for (const d of fs.readdirSync(gems).filter((d) => d.startsWith("vagrant-"))) candidates.push(path.join(gems, d, "keys", "vagrant"));
    return candidates.find((c): c is string => !!c && fs.existsSync(c));
}

export const CHECKS = {
    packer: {
        title: "Packer (and, from 1.7, its plugins)",
        fix: "apt-get install packer, or https://developer.hashicorp.com/packer/install; then packer init templates/plugins/",
        probe: packer,
    },
    qemu: {
        title: "QEMU (qemu-system-x86_64)",
        fix: "apt-get install qemu-system-x86 (dnf install qemu-kvm; brew install qemu)",
        probe: () => versionOf("qemu-system-x86_64", ["--version"], /^QEMU emulator version/),
    },
    "qemu-img": {
        title: "qemu-img (conversions, overlays)",
        fix: "apt-get install qemu-utils (dnf install qemu-img)",
        probe: () => versionOf("qemu-img", ["--version"], /^qemu-img version/),
    },
    kvm: {
        title: "KVM for site.accelerator kvm",
        fix: "give this user /dev/kvm (modprobe kvm_intel or kvm_amd; usermod -aG kvm $USER), or set site.accelerator: tcg (pulumi config set --path site.accelerator tcg) and expect builds about 10x slower",
        probe: kvm,
    },
    ansible: {
        title: "Ansible (ansible-playbook)",
        fix: "apt-get install ansible (pipx install ansible-core)",
        probe: () => versionOf("ansible-playbook", ["--version"], /^ansible-playbook/),
    },
    "ansible-python27": {
        title: "Ansible that drives Python 2.7 (EL7 targets)",
        fix: "pipx install 'ansible-core<2.17' (Debian 12's ansible has ansible-core 2.14)",
        probe: ansibleForPython27,
    },
    chroot: {
        title: "Chroot variants (variantMode chroot): root, losetup, mount, Ansible's chroot connection",
        fix: "run as root with util-linux (losetup, mount) and Debian's ansible (community.general), or set variantMode: boot (pulumi config set variantMode boot) and expect each variant to boot under QEMU",
        probe: chrootVariants,
    },
    "build-key": {
        title: "The build key (keys/packer)",
        fix: "npm run keys",
        probe: buildKey,
    },
    "ssh-keygen": {
        title: "ssh-keygen (the first-boot test's keys)",
        fix: "apt-get install openssh-client",
        // ssh-keygen has no version option; OpenSSH's client, from the same package, tells it.
        probe: async () => (onPath("ssh-keygen") ? { ...(await versionOf("ssh", ["-V"], /^OpenSSH/)), ok: true } : { ok: false, detail: "ssh-keygen is not on PATH" }),
    },
    guestfish: {
        title: "guestfish and a readable kernel (the docker rootfs, offline reads)",
        fix: "apt-get install libguestfs-tools linux-image-amd64",
        probe: guestfish,
    },
    lzop: {
        title: "lzop (the docker rootfs leaves guestfish lzop'd)",
        fix: "apt-get install lzop",
        probe: () => versionOf("lzop", ["--version"], /^lzop/),
    },
    genisoimage: {
        title: "genisoimage (provisioning media of the first-boot test)",
        fix: "apt-get install genisoimage",
        probe: () => versionOf("genisoimage", ["--version"], /genisoimage/),
    },
    ovmf: {
        title: "OVMF with Microsoft's keys (the first boot of UEFI images, Secure Boot on)",
        fix: "apt-get install ovmf",
        probe: async () => {
            const missing = [OVMF.secureBoot.code, OVMF.secureBoot.vars, OVMF.plain.code, OVMF.plain.vars].filter((f) => !fs.existsSync(path.join(OVMF.dir, f)));
            return missing.length ? { ok: false, detail: `missing in ${OVMF.dir}: ${missing.join(", ")}` } : { ok: true, version: OVMF.dir };
        },
    },
    swtpm: {
        title: "swtpm (the TPM 2.0 of UEFI images' first boot)",
        fix: "apt-get install swtpm",
        probe: () => versionOf("swtpm", ["--version"], /version/i),
    },
    podman: {
        title: "podman (the docker image's first run; without it a chroot, and the result says so)",
        optional: true,
        fix: "apt-get install podman",
        probe: () => versionOf("podman", ["--version"], /^podman version/),
    },
    "vagrant-key": {
        title: "Vagrant's insecure key (the box's first login)",
        fix: "apt-get install vagrant, or set VAGRANT_INSECURE_KEY to a copy of it",
        probe: async () => {
            const key = vagrantInsecureKey();
            return key ? { ok: true, version: key } : { ok: false, detail: "not found" };
        },
    },
    virtualbox: {
        title: "VirtualBox (builder: iso with virtualbox-iso)",
        fix: "install VirtualBox 7 from https://www.virtualbox.org/wiki/Linux_Downloads",
        probe: () => versionOf("VBoxManage", ["--version"], /^\d/),
    },
    vmware: {
        title: "VMware Workstation (builder: iso with vmware-iso)",
        fix: "install VMware Workstation or Fusion (vmrun on PATH)",
        probe: () => versionOf("vmrun", [], /vmrun version/),
    },
} satisfies Record<string, ToolCheck>;

export type ToolId = keyof typeof CHECKS;
export const TOOL_IDS = Object.keys(CHECKS) as ToolId[];
