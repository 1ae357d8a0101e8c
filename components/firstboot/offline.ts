// The image as it will ship, read before its first boot: a first boot makes SSH host keys and a
// machine-id, so only a read of the disk itself shows whether the image already carried them
// (every machine made from it would share them). One read-only libguestfs pass per image,
// independent of the code that built it; the boot that follows runs on an overlay.
import { inspectImage, isLockedPasswordField } from "./inspect";
import type { CheckResult } from "./mechanism";

const check = (name: string, ok: boolean, detail: string): CheckResult => (ok ? { name, ok } : { name, ok, detail });

/** The offline checks of a disk (libguestfs format names: qcow2, raw, vpc, vmdk). */
export async function offlineChecks(disk: string, format: string, buildKey?: string): Promise<CheckResult[]> {
    const seen = await inspectImage(disk, format);
    const machineId = seen.machineId.trim();
    const out = [
        check("offline: no SSH host keys in the image", seen.sshHostKeys.length === 0, `found ${seen.sshHostKeys.join(", ")}`),
        check("offline: an empty machine-id (each machine makes its own)", machineId === "" || machineId === "uninitialized", `/etc/machine-id holds ${JSON.stringify(machineId.slice(0, 40))}`),
        check("offline: root's password locked", isLockedPasswordField(seen.rootPasswordField), `root's shadow field starts with ${JSON.stringify((seen.rootPasswordField ?? "(no root line)").slice(0, 3))}`),
    ];
    const body = buildKey?.trim().split(/\s+/)[1];
    if (body) out.push(check("offline: no build key in root's authorized_keys", !seen.rootAuthorizedKeys.includes(body), "the build key is in /root/.ssh/authorized_keys"));
    return out;
}
