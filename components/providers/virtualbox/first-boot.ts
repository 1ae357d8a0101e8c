// A Vagrant box as `vagrant up` starts it: the VMDK inside the box on the SATA controller its
// OVF declares, logged in as vagrant with Vagrant's insecure key (which Vagrant replaces at
// the first `vagrant up`), sudo without a password; and the box's Vagrantfile checked against
// what `vagrant up` does: no /vagrant synced folder unless the guest additions are there.
import * as fs from "fs";
import * as path from "path";
import { vagrantInsecureKey } from "../../doctor/checks";
import { exec } from "../../firstboot/exec";
import { Check, VmFirstBoot } from "../../firstboot/mechanism";
import { keyBodies } from "../../firstboot/offline";
import { repoRoot } from "../../recipe/paths";

/** Vagrant's insecure public keys, as the role bakes them (Vagrant replaces them at the first `vagrant up`). */
const INSECURE_KEYS = keyBodies(fs.readFileSync(path.join(repoRoot, "ansible/roles/virtualbox/files/vagrant.pub"), "utf8"));

/**
 * Vagrant's insecure private key, from the vagrant package (public, never a secret), copied
 * into `work` with the mode ssh requires of a private key (the package's copy is world-readable).
 */
function insecureKey(work: string): string {
    const found = vagrantInsecureKey();
    if (!found) throw new Error("Vagrant's insecure key is needed to log in as vagrant: install vagrant, or set VAGRANT_INSECURE_KEY");
    const copy = path.join(work, "vagrant-insecure-key");
    fs.copyFileSync(found, copy);
    fs.chmodSync(copy, 0o600);
    return copy;
}

async function checkBox(box: string, work: string): Promise<void> {
    const dir = path.join(work, "box");
    fs.mkdirSync(dir, { recursive: true });
    const x = await exec("tar", ["-xzf", box, "-C", dir, "Vagrantfile", "metadata.json"]);
    if (x.code !== 0) throw new Error(`tar -xzf ${box}: ${x.stderr}`);
    const vagrantfile = fs.readFileSync(path.join(dir, "Vagrantfile"), "utf8");
    // The box has no guest additions: `vagrant up` would fail to mount /vagrant.
    if (!/config\.vm\.synced_folder\s+"\.",\s*"\/vagrant",\s*disabled:\s*true/.test(vagrantfile)) {
        throw new Error("the box's Vagrantfile keeps the default /vagrant synced folder, which the first `vagrant up` cannot mount (no guest additions)");
    }
    if (JSON.parse(fs.readFileSync(path.join(dir, "metadata.json"), "utf8")).provider !== "virtualbox") throw new Error("the box's metadata.json is not for the virtualbox provider");
}

const CONTRACT: Check[] = [
    { name: "vagrant may sudo without a password and without a tty", run: "grep -Eq '^vagrant ALL=\\(ALL\\) NOPASSWD: ALL' /etc/sudoers.d/vagrant && ! grep -Eq '^Defaults\\s+requiretty' /etc/sudoers" },
    { name: "sshd does no reverse DNS (vagrant up waits on every connection otherwise)", run: "sshd -T | grep -qi '^usedns no'" },
];

export const firstBoot: VmFirstBoot = {
    kind: "vm",
    tools: ["vagrant-key"],
    bus: "sata",
    // The key is in the image: no agent to wait for.
    graceSec: 60,
    play: (g) => ({ user: "vagrant", login: "Vagrant's insecure key", key: insecureKey(g.work), setsHostname: false }),
    // Vagrant's documented base-box conventions: its insecure key for vagrant, and its sudo.
    baked: { keys: INSECURE_KEYS, nopasswdUsers: ["vagrant"] },
    contract: CONTRACT,
    checkArtifact: checkBox,
};
