// The tamper table: copies of the end-to-end images, each broken one way a cloud user would be
// hurt by, each of which its first-boot test must fail, naming the broken check. A copy is a
// qcow2 overlay on the image (the image is never written), edited with guestfish (all in one session); the test is
// the very first-boot test of the stages (components/firstboot/run.ts), with the same build key.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { FirstBootResult, firstBoot } from "../../components/firstboot/run";
import { providerModule } from "../../components/providers";
import { defaultBootMode } from "../../components/providers/provider";
import { loadOs } from "../../components/recipe/os";
import { run } from "../support/tools";

export interface TamperRow {
    /** What is broken, for the table. */
    readonly what: string;
    /** Whose image is broken (its artifact must be a disk: qcow2 or VHD). */
    readonly provider: "openstack" | "azure";
    /** guestfish commands run on the copy (its root file system mounted; `disk` is its device, e.g. /dev/sdb); `!cmd` runs on this machine. */
    readonly guestfish: (work: string, disk: string) => string;
    /** Run on this machine after guestfish: proves the break is in the copy (a no-op break proves nothing). */
    readonly verify?: (work: string) => void;
    /** The check whose failure the test must report. */
    readonly check: RegExp;
    /** Refused by the offline read, before any boot. */
    readonly offline: boolean;
    /**
     * Rows with the same key break one copy together and share its test (one offline read, one
     * boot: each is a TCG guest): only breaks whose checks cannot fail because of another's
     * break (the build key is also a key in an authorized_keys: it stays alone), each of which
     * must then fail, and nothing else.
     */
    readonly sharedCopy?: string;
}

const FOREIGN = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMalloryMalloryMalloryMalloryMalloryMallory00 mallory@elsewhere";
// A SHA-512 crypt of "password" (a known password is exactly the defect).
const HASH = "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/";
const AZURE_HELPER = "/usr/lib/python3/dist-packages/cloudinit/sources/helpers/azure.py";
const UNSIGNED_GRUB = "/usr/lib/grub/x86_64-efi/monolithic/grubx64.efi";

/** The size of a PE image's Authenticode signature (its certificate table; 0: unsigned). */
export function authenticodeBytes(pe: Buffer): number {
    const at = pe.readUInt32LE(0x3c);
    assert.equal(pe.toString("latin1", at, at + 4), "PE\0\0", "a PE image");
    const optional = at + 24;
    // PE32+ (0x20b): the data directories start 112 bytes in; the certificate table is the 5th.
    assert.equal(pe.readUInt16LE(optional), 0x20b, "a PE32+ image");
    return pe.readUInt32LE(optional + 112 + 4 * 8 + 4);
}

/** The rows; each breaks one thing. */
export function tamperRows(buildKey: string): TamperRow[] {
    return [
        {
            what: "SSH host keys baked into the image",
            provider: "openstack",
            guestfish: () => `write /etc/ssh/ssh_host_ed25519_key.pub "${FOREIGN.replace("mallory@elsewhere", "root@build")}"\nwrite /etc/ssh/ssh_host_ed25519_key "not a key, but there"`,
            check: /offline: no SSH host keys in the image/,
            offline: true,
            sharedCopy: "openstack: offline",
        },
        {
            what: "a machine-id baked into the image",
            provider: "openstack",
            guestfish: () => `write /etc/machine-id "0123456789abcdef0123456789abcdef\\n"`,
            check: /offline: an empty machine-id/,
            offline: true,
            sharedCopy: "openstack: offline",
        },
        {
            what: "the build key left in root's authorized_keys",
            provider: "openstack",
            guestfish: () => `mkdir-p /root/.ssh\nwrite /root/.ssh/authorized_keys "${buildKey.trim()}\\n"`,
            check: /offline: no build key in the image/,
            offline: true,
        },
        {
            what: "a foreign key in a user's authorized_keys",
            provider: "openstack",
            guestfish: () => `mkdir-p /home/mallory/.ssh\nwrite /home/mallory/.ssh/authorized_keys "${FOREIGN}\\n"`,
            check: /offline: no SSH key in any authorized_keys/,
            offline: true,
            sharedCopy: "openstack: offline",
        },
        {
            what: "a user with a password",
            provider: "openstack",
            guestfish: () => `write-append /etc/passwd "mallory:x:1999:1999::/home/mallory:/bin/bash\\n"\nwrite-append /etc/shadow "mallory:${HASH}:19000:0:99999:7:::\\n"`,
            check: /offline: no user with a password/,
            offline: true,
            sharedCopy: "openstack: offline",
        },
        {
            what: "passwordless sudo for a user",
            provider: "openstack",
            guestfish: () => `write /etc/sudoers.d/mallory "mallory ALL=(ALL) NOPASSWD: ALL\\n"\nchmod 0440 /etc/sudoers.d/mallory`,
            check: /offline: no passwordless sudo/,
            offline: true,
            sharedCopy: "openstack: offline",
        },
        {
            what: "cloud-init switched off (/etc/cloud/cloud-init.disabled)",
            provider: "openstack",
            guestfish: () => `touch /etc/cloud/cloud-init.disabled`,
            check: /offline: the way in enabled .*cloud-init\.disabled switches cloud-init off/,
            offline: true,
            sharedCopy: "openstack: offline",
        },
        {
            what: "Azure's provisioning agent masked (cloud-init.service → /dev/null)",
            provider: "azure",
            guestfish: () => `ln-sf /dev/null /etc/systemd/system/cloud-init.service`,
            check: /offline: the way in enabled .*cloud-init\.service is masked/,
            offline: true,
        },
        {
            what: "sshd allows password login",
            provider: "azure",
            // Read before the image's own drop-in (the first value sshd reads wins).
            guestfish: () => `write /etc/ssh/sshd_config.d/00-aaa.conf "PasswordAuthentication yes\\n"`,
            check: /sshd: keys only/,
            offline: false,
            // The guest's sshd settings and what the agent told the wire server: apart.
            sharedCopy: "azure: sshd and the ready report",
        },
        {
            what: "Azure's ready report never sent (cloud-init's health report cut out)",
            provider: "azure",
            guestfish: (work) =>
                [
                    `download ${AZURE_HELPER} ${path.join(work, "azure.py")}`,
                    `! sed -i -E 's/^( *)(def _post_health_report\\(self, document[^)]*\\)( -> None)?:)$/\\1\\2\\n\\1    return/' ${path.join(work, "azure.py")}`,
                    `upload ${path.join(work, "azure.py")} ${AZURE_HELPER}`,
                ].join("\n"),
            verify: (work) => assert.match(fs.readFileSync(path.join(work, "azure.py"), "utf8"), /def _post_health_report\(self, document[^)]*\)( -> None)?:\n +return\n/, "the report is cut out"),
            check: /reported Ready to the wire server/,
            offline: false,
            sharedCopy: "azure: sshd and the ready report",
        },
        {
            // The same GRUB, built by Debian but not signed (grub-efi-amd64-bin's monolithic image).
            what: "an unsigned GRUB behind the shim (Secure Boot must refuse it)",
            provider: "azure",
            guestfish: (work, disk) =>
                [
                    `mount ${disk}15 /boot/efi`,
                    ...["BOOT", "debian"].map((d) => `cp ${UNSIGNED_GRUB} /boot/efi/EFI/${d}/grubx64.efi`),
                    `download /boot/efi/EFI/BOOT/grubx64.efi ${path.join(work, "grubx64.efi")}`,
                    `download /boot/efi/EFI/BOOT/BOOTX64.EFI ${path.join(work, "BOOTX64.EFI")}`,
                ].join("\n"),
            verify: (work) => {
                assert.equal(authenticodeBytes(fs.readFileSync(path.join(work, "grubx64.efi"))), 0, "the copy's GRUB carries no signature");
                assert.ok(authenticodeBytes(fs.readFileSync(path.join(work, "BOOTX64.EFI"))) > 0, "the copy's shim is still the signed one");
            },
            check: /did not come up \(Secure Boot refused/,
            offline: false,
        },
    ];
}

export interface TamperCase {
    /** The rows broken in this copy (one, or those that share it). */
    readonly rows: readonly TamperRow[];
    /** The image the copy is made from, and its qemu-img format. */
    readonly image: string;
    readonly format: "qcow2" | "vpc";
    /** The copy's own directory: the copy, its files, its serial log. */
    readonly work: string;
}

/**
 * The broken copies (qcow2 overlays on the images, which are never written), all edited in one
 * guestfish session: one appliance start instead of one per row (under TCG, half a minute each).
 * The e2e's disks have their root file system on partition 1 (scripts/debian-base-disk.sh).
 */
export async function brokenCopies(cases: readonly TamperCase[]): Promise<string[]> {
    const copies: string[] = [];
    for (const c of cases) {
        fs.mkdirSync(c.work, { recursive: true });
        const copy = path.join(c.work, "copy.qcow2");
        const made = await run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", c.format, "-b", c.image, copy]);
        assert.equal(made.code, 0, made.stderr);
        copies.push(copy);
    }
    const script = [
        ...copies.map((copy) => `add ${copy} format:qcow2`),
        "run",
        ...cases.flatMap((c, i) => {
            const disk = `/dev/sd${String.fromCharCode(97 + i)}`;
            return [`mount ${disk}1 /`, "exists /etc/os-release", ...c.rows.map((r) => r.guestfish(c.work, disk)), "umount-all"];
        }),
    ].join("\n");
    const g = await run("guestfish", ["--rw"], { input: script + "\n", env: { ...process.env, LIBGUESTFS_BACKEND: "direct" } });
    assert.equal(g.code, 0, `guestfish: ${g.stderr}`);
    assert.equal(g.stdout.split("\n").filter((l) => l === "true").length, cases.length, `every copy's root file system was mounted: ${g.stdout}`);
    for (const c of cases) for (const r of c.rows) r.verify?.(c.work);
    return copies;
}

/** The rows in copies: each alone, but those that share a copy together (the same provider). */
export function tamperCases(rows: readonly TamperRow[], workOf: (i: number) => string, disk: (p: TamperRow["provider"]) => { image: string; format: "qcow2" | "vpc" }): TamperCase[] {
    const groups: TamperRow[][] = [];
    for (const row of rows) {
        const group = row.sharedCopy && groups.find((g) => g[0].sharedCopy === row.sharedCopy);
        if (group) {
            assert.equal(row.provider, group[0].provider, `${row.sharedCopy}: one image`);
            group.push(row);
        } else groups.push([row]);
    }
    return groups.map((g, i) => ({ rows: g, ...disk(g[0].provider), work: workOf(i) }));
}

/** What a broken copy's test failed: every failed check, or why it never got to its checks. */
export function failuresOf(r: FirstBootResult): string[] {
    const failed = r.checks.filter((c) => !c.ok).map((c) => `check failed: ${c.name}: ${c.detail}`);
    return failed.length ? failed : r.failure ? [r.failure] : [];
}

/** One copy (made by `brokenCopies`) through the provider's first-boot test. */
export async function tamperTest(c: TamperCase, copy: string, buildKey: string): Promise<FirstBootResult> {
    const provider = providerModule(c.rows[0].provider);
    if (provider.firstBoot.kind !== "vm") throw new Error(`${provider.name}: not a machine image`);
    return firstBoot({
        provider: provider.name,
        firstBoot: provider.firstBoot,
        // As its cloud boots the image (the provider's default for the e2e's OS).
        boot: defaultBootMode(provider, loadOs("Debian-12")),
        artifact: copy,
        format: "qcow2",
        defaultUsers: ["debian"],
        imdsV2Only: false,
        buildKey,
        serialLog: path.join(c.work, "serial.log"),
    });
}
