// Kickstart rendering: every OS x every build, the release rules of each family, and the
// errors a caller sees for bad names. Runs on the recipe's real files (read only) and on
// throwaway copies for the cases that need changed definitions.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { listBuildNames, listBuilds } from "../../components/kickstart/definitions";
import { BadNameError, UnknownChoiceError } from "../../components/kickstart/errors";
import { listKickstarts, renderKickstart, writeHttpDirectory } from "../../components/kickstart/render";
import { bootsWith, hasKickstart, kickstartFamily, listKickstartOses, listOses, loadOs, osFile } from "../../components/recipe/os";
import { repoRoot } from "../../components/recipe/paths";
import { loadSite } from "../../components/recipe/site";
import { providerNames } from "../../components/providers";
import { fixtureRoot, TEST_KEY, TEST_REPO_SERVER, testSite } from "../support/kickstart-fixtures";
import { tempDir } from "../support/tools";
import { GUEST_PROXY } from "../../components/isolation/guest";
import { isoBuildCommand } from "../../components/stages/packer";

const site = testSite();
const providers = providerNames();
const render = (build: string, os: string, extra: object = {}) => renderKickstart({ providers, build, os, site, sshPublicKey: TEST_KEY, ...extra });
const lines = (ks: string) => ks.split("\n");
/** The body of the first section that starts with `header` (e.g. "%packages"). */
function section(ks: string, header: string): string[] {
    const all = lines(ks);
    const start = all.findIndex((l) => l.startsWith(header));
    assert.ok(start >= 0, `no ${header} section`);
    const end = all.indexOf("%end", start);
    assert.ok(end > start, `${header} has no %end`);
    return all.slice(start + 1, end);
}

const MINIMAL_EXCLUDES = ["-*firmware", "-iwl*", "-plymouth*", "-dracut-config-rescue", "-kexec-tools"];
const BOOT_ARGS = {
    el7: "console=tty0 console=ttyS0,115200n8 net.ifnames=0 biosdevname=0",
    el8: "console=tty0 console=ttyS0,115200n8",
};

/** What a hybrid disk (firmware bios and uefi) adds: its partitions, and its boot loaders for both. */
const HYBRID_PARTS = [/^part biosboot --fstype=biosboot --size=1( |$)/, /^part \/boot\/efi --fstype=efi --size=200( |$)/];
const HYBRID_PACKAGES = ["grub2-pc", "grub2-efi-x64", "shim-x64"];

/** The lines of a kickstart that make a disk boot under UEFI, or with GRUB i386-pc on GPT. */
function firmwareLines(ks: string): string[] {
    return lines(ks).filter((l) => /biosboot|\/boot\/efi|--disklabel|grub2-pc|grub2-efi|shim|BOOTX64|sfdisk/.test(l));
}

const METAL_HOSTS: Record<string, { network: string; drive: string; root: string; extraArgs: string; ownFirmwarePartition: boolean }> = {
    host1: {
        network:
            "network --bootproto=static --device=eth0 --ip=192.0.2.11 --netmask=255.255.255.0 --gateway=192.0.2.1 --nameserver=192.0.2.53,192.0.2.54 --hostname=host1.example.com --onboot=yes --activate",
        drive: "sda",
        root: "part / --fstype=xfs --size=20480 --ondisk=sda",
        extraArgs: "",
        ownFirmwarePartition: false,
    },
    host2: {
        network:
            "network --bootproto=static --device=eno1 --ip=198.51.100.20 --netmask=255.255.255.0 --gateway=198.51.100.1 --nameserver=198.51.100.53 --hostname=host2.example.com --onboot=yes --activate",
        drive: "nvme0n1",
        root: "part / --fstype=xfs --size=40960 --grow --ondisk=nvme0n1",
        extraArgs: " console=ttyS1,115200n8",
        ownFirmwarePartition: true,
    },
};

test("the recipe has all seven providers as virtual builds and at least two metal hosts", () => {
    assert.deepEqual(listBuildNames("virtual", providers), [...providerNames()]);
    assert.ok(listBuildNames("metal", providers).length >= 2);
    for (const host of Object.keys(METAL_HOSTS)) assert.ok(listBuilds(providers).includes(`metal/${host}`));
    assert.ok(listOses().length > 0, "templates/os has no OS files");
});

for (const { build, os } of listKickstarts(providers)) {
    test(`kickstart ${build} x ${os}`, () => {
        const osVars = loadOs(os);
        const family = kickstartFamily(osVars);
        const ks = render(build, os);
        const all = lines(ks);
        const [type, name] = build.split("/");

        assert.doesNotMatch(ks, /undefined|\[object Object\]|(^|[ =])null( |"|$)/m);
        assert.ok(all.includes("text") && all.includes("skipx") && all.includes("firstboot --disabled"));
        assert.ok(all.includes("reboot") || all.includes("poweroff"));
        assert.ok(all.includes("services --enabled=sshd"));

        // Release rules.
        if (family === "el8") {
            for (const cmd of ["install", "unsupported_hardware", "authconfig", "auth"]) {
                assert.ok(!all.some((l) => l === cmd || l.startsWith(cmd + " ")), `${cmd} on EL8+`);
            }
        } else {
            assert.ok(all.includes("install") && all.includes("unsupported_hardware"));
            assert.ok(all.includes("authconfig --enableshadow --passalgo=sha512"));
        }
        assert.doesNotMatch(ks, /--nobase/);

        // Repositories, from the OS file (vault for CentOS 7).
        const installUrl = osVars.install_url.replace("{{ repo_server }}", TEST_REPO_SERVER);
        assert.ok(all.includes(`url --url=${installUrl}`), `url line for ${installUrl}`);
        for (const [repo, url] of Object.entries(osVars.extra_repos)) {
            assert.ok(all.includes(`repo --name=${repo} --baseurl=${url.replace("{{ repo_server }}", TEST_REPO_SERVER)}`), `repo ${repo}`);
        }
        if (osVars.os_name === "CentOS" && osVars.os_major === 7) {
            assert.ok(all.filter((l) => /^(url|repo) /.test(l)).every((l) => l.includes("://vault.centos.org/")), "CentOS 7 repos come from the vault");
        }

        // The minimal package set.
        const packages = section(ks, "%packages");
        assert.equal(packages[0], "@core --nodefaults");
        for (const p of [...MINIMAL_EXCLUDES, "dracut-config-generic", "openssh-server"]) assert.ok(packages.includes(p), `%packages lacks ${p}`);

        // Boot loader arguments of the family, first.
        const bootloader = all.filter((l) => l.startsWith("bootloader "));
        assert.equal(bootloader.length, 1);
        assert.match(bootloader[0], new RegExp(`--append="${BOOT_ARGS[family].replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[" ]`));
        if (family === "el8") assert.doesNotMatch(bootloader[0], /net\.ifnames|biosdevname/);

        // The disk: hybrid (GPT, biosboot + EFI system partition, boot loaders for both firmwares)
        // exactly when the OS file's firmware lists bios and uefi and the definition places no
        // firmware partition itself; else the plain layout, with nothing of the hybrid one.
        const parts = all.filter((l) => l.startsWith("part "));
        const hybrid = bootsWith(osVars, "bios") && bootsWith(osVars, "uefi") && !METAL_HOSTS[name]?.ownFirmwarePartition;
        if (hybrid) {
            assert.match(all.find((l) => l.startsWith("clearpart "))!, / --disklabel=gpt( |$)/);
            assert.ok(!all.includes("reqpart"), "reqpart would add the installer's firmware partition again");
            for (const re of HYBRID_PARTS) assert.equal(parts.filter((l) => re.test(l)).length, 1, `one ${re}`);
            for (const p of HYBRID_PACKAGES) assert.ok(packages.includes(p), `%packages lacks ${p}`);
            const post = section(ks, "%post --erroronfail").join("\n");
            assert.match(post, /\/boot\/efi\/EFI\/BOOT\/BOOTX64\.EFI /, "the removable path (the shim) is checked");
            assert.match(post, /^boot_uuid=\$\(grub2-probe --target=fs_uuid \/boot\/grub2\)$/m);
            assert.match(post, /^search --no-floppy --root-dev-only --fs-uuid --set=dev \$boot_uuid\nset prefix=\(\\\$dev\)\$grub_dir\nexport \\\$prefix\nconfigfile \\\$prefix\/grub\.cfg$/m);
            assert.match(post, /^sfdisk --activate "\$disk" -$/m, "the protective MBR's boot flag is cleared");
        } else {
            assert.deepEqual(firmwareLines(ks).filter((l) => !(METAL_HOSTS[name]?.ownFirmwarePartition && l.startsWith("part /boot/efi "))), [], "nothing of the hybrid disk");
        }
        if (type === "virtual") {
            // Root ends the disk (anaconda places the growing partition last): growpart extends it.
            assert.deepEqual(parts.filter((l) => / --grow( |$)/.test(l)), [parts[parts.length - 1]], "one growing partition, listed last");
            assert.match(parts[parts.length - 1], /^part \/ /);
        }

        // Never a plaintext root password.
        const rootpw = all.filter((l) => l.startsWith("rootpw"));
        assert.equal(rootpw.length, 1);
        assert.match(rootpw[0], /^rootpw (--lock|--iscrypted \$6\$[A-Za-z0-9./]+\$[A-Za-z0-9./]{86}( --lock)?)$/);
        assert.doesNotMatch(ks, /--plaintext/);

        // SSH: root by key only.
        assert.ok(all.includes(`sed -i '1i PermitRootLogin ${family === "el7" ? "without-password" : "prohibit-password"}' /etc/ssh/sshd_config`));

        // SELinux enforcing unless the build says otherwise (docker: disabled).
        assert.ok(all.includes(build === "virtual/docker" ? "selinux --disabled" : "selinux --enforcing"));

        // EJECT (seed option) ejects the first CD/DVD drive.
        assert.match(section(ks, "%post --nochroot").join("\n"), /grep -qw EJECT \/proc\/cmdline[\s\S]*eject "\$drive"/);

        if (type === "virtual") {
            assert.equal(rootpw[0], "rootpw --lock");
            assert.ok(all.includes(TEST_KEY), "the build key is in authorized_keys");
            assert.ok(all.includes("network --bootproto=dhcp --device=link --onboot=yes --activate --hostname=localhost.localdomain"));
            const swap = all.some((l) => l.startsWith("part swap"));
            assert.equal(swap, name === "virtualbox" || name === "vmware", "swap only for desktop hypervisors");
        } else {
            const host = METAL_HOSTS[name];
            assert.ok(!all.includes(TEST_KEY), "the build key never reaches a metal host");
            if (host) {
                assert.ok(all.includes(host.network), `network line of ${name}`);
                assert.ok(all.includes(`ignoredisk --only-use=${host.drive}`));
                assert.ok(all.includes(`clearpart --all --initlabel${hybrid ? " --disklabel=gpt" : ""} --drives=${host.drive}`));
                assert.ok(all.includes(host.root), `root partition of ${name}`);
                assert.ok(all.filter((l) => l.startsWith("part ")).every((l) => l.endsWith(`--ondisk=${host.drive}`)));
                assert.ok(bootloader[0].includes(`--boot-drive=${host.drive}`));
                assert.ok(bootloader[0].endsWith(`${BOOT_ARGS[family]}${host.extraArgs}"`));
                assert.match(rootpw[0], /^rootpw --iscrypted \$6\$/);
            }
        }
    });
}

test("no reqpart beside a hybrid disk's or a host's own firmware partitions, nor on EL7", () => {
    const el8 = listKickstartOses().find((o) => kickstartFamily(loadOs(o)) === "el8" && bootsWith(loadOs(o), "uefi"));
    const el7 = listKickstartOses().find((o) => kickstartFamily(loadOs(o)) === "el7");
    assert.ok(el8 && el7);
    assert.ok(!lines(render("virtual/aws", el8)).includes("reqpart"));
    assert.ok(!lines(render("metal/host2", el8)).includes("reqpart"));
    assert.ok(lines(render("metal/host2", el8)).includes("part /boot/efi --fstype=efi --size=600 --ondisk=nvme0n1"));
    assert.ok(!lines(render("virtual/aws", el7)).includes("reqpart"));
});

test("the hybrid disk follows the OS file's firmware, not the OS's name", () => {
    const root = fixtureRoot();
    const os = listKickstartOses(root).find((o) => kickstartFamily(loadOs(o, root)) === "el8" && bootsWith(loadOs(o, root), "uefi"))!;
    const ks = () => renderKickstart({ providers, build: "virtual/gcp", os, root, site: testSite(root) });
    assert.ok(firmwareLines(ks()).length > 0, "hybrid as shipped");
    const file = osFile(os, root);
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/^firmware\s*=.*$/m, 'firmware = ["bios"]').replace(/^secure_boot\s*=.*$/m, "secure_boot = false"));
    assert.deepEqual(firmwareLines(ks()), [], "BIOS alone: nothing of the hybrid disk");
    assert.ok(lines(ks()).includes("reqpart"), "BIOS alone on EL8+: anaconda adds what its firmware needs");
});

test("an OS file asks only for a disk its kickstart install can make", () => {
    const root = fixtureRoot();
    const oses = listKickstartOses(root).map((o) => loadOs(o, root));
    const el7 = oses.find((o) => kickstartFamily(o) === "el7")!.vm_name;
    const el8 = oses.find((o) => kickstartFamily(o) === "el8")!.vm_name;
    const setFirmware = (id: string, value: string) => {
        const file = osFile(id, root);
        fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/^firmware\s*=.*$/m, `firmware = ${value}`));
    };
    setFirmware(el7, '["bios", "uefi"]');
    assert.throws(() => loadOs(el7, root), /firmware \["bios","uefi"\] cannot be installed: EL7 makes no hybrid disk/);
    setFirmware(el8, '["uefi"]');
    assert.throws(() => loadOs(el8, root), /firmware \["uefi"\] cannot be installed: the ISO install runs under BIOS/);
});

test("a virtual build's '/' is its only growing partition; a metal host may grow another", () => {
    const root = fixtureRoot();
    const os = listKickstartOses(root)[0];
    const file = path.join(root, "http", "builds", "virtual", "openstack.yaml");
    fs.appendFileSync(file, "disk:\n  partitions:\n    - { mount: /, fstype: xfs, size: 2048, grow: true }\n    - { mount: /var, fstype: xfs, size: 1024, grow: true }\n");
    assert.throws(
        () => renderKickstart({ providers, build: "virtual/openstack", os, root, site: testSite(root) }),
        /openstack\.yaml: disk\.partitions: in a virtual build, '\/' must be the only partition with grow: true .*; growing: \/, \/var$/,
    );
    const host1 = lines(renderKickstart({ providers, build: "metal/host1", os, root, site: testSite(root) }));
    assert.ok(host1.some((l) => l.startsWith("part /var ") && l.includes(" --grow")));
});

test("the type alone ('virtual') is the seed's fallback to the type's defaults; metal has none", () => {
    const os = listOses()[0];
    const ks = render("virtual", os);
    assert.match(ks, /^# build: virtual /m);
    assert.ok(lines(ks).includes("rootpw --lock"));
    assert.throws(() => render("metal", os), (e: Error) => e instanceof UnknownChoiceError && /metal\/host1/.test(e.message));
    assert.throws(() => render("metal/defaults", os), UnknownChoiceError);
});

test("unknown type, build, host and OS name the bad value and list the valid ones", () => {
    const os = listOses()[0];
    const cases: [string, string, RegExp][] = [
        ["cloud/aws", os, /unknown build type: 'cloud' is not valid; valid choices: metal, virtual/],
        ["virtual/awss", os, /unknown virtual build: 'virtual\/awss' is not valid; valid choices: virtual\/aws, virtual\/azure, .*virtual\/vmware/],
        ["metal/host99", os, /unknown metal host: 'metal\/host99' is not valid; valid choices: metal\/host1, metal\/host2/],
        ["virtual/aws", "Nope-1", /unknown OS: 'Nope-1' is not valid; valid choices: .*CentOS-7\.2\.1511/],
        // An OS file without a kickstart is known: refused with the reason, and not among the choices.
        ["virtual/aws", "Debian-12", /^OS: 'Debian-12' has no kickstart: its base starts from an existing disk image \(config baseImages\); valid choices: (?!.*Debian).*CentOS-7\.2\.1511/],
    ];
    for (const [build, o, message] of cases) assert.throws(() => render(build, o), (e: Error) => e instanceof UnknownChoiceError && message.test(e.message));
});

test("names that are not names are refused before any file is looked up", () => {
    const os = listOses()[0];
    for (const build of ["../virtual/aws", "virtual/../metal/host1", "virtual/aws.yaml", "virtual/.aws", "/etc/passwd", "virtual/a b", "virtual/-x", "virtual/" + "a".repeat(65), "virtual/aws/x", ""]) {
        assert.throws(() => render(build, os), (e: Error) => e instanceof BadNameError || e instanceof UnknownChoiceError, build);
    }
    for (const bad of ["../templates/os/CentOS-7.2.1511", "CentOS-7.2.1511.pkrvars.hcl", ""]) {
        assert.throws(() => render("virtual/aws", bad), UnknownChoiceError, bad);
    }
});

test("an OS that needs repo_server fails clearly when the site has none", () => {
    const rhel = listOses().find((o) => loadOs(o).install_url.includes("{{ repo_server }}"));
    assert.ok(rhel, "no OS uses {{ repo_server }}");
    const noRepo = loadSite({ overrides: { repo_server: "" } });
    assert.throws(
        () => renderKickstart({ providers, build: "virtual/aws", os: rhel, site: noRepo, sshPublicKey: TEST_KEY }),
        (e: Error) => e.message.includes(`config site.repo_server: '' is not valid for ${rhel}`),
    );
});

test("build key: from keys/packer.pub by default, a file, or text; bad keys are refused", () => {
    const root = fixtureRoot();
    const os = listOses(root)[0];
    const fromDefault = renderKickstart({ providers, build: "virtual/gcp", os, root, site: testSite(root) });
    assert.ok(lines(fromDefault).includes(TEST_KEY));
    const other = TEST_KEY.replace("gold-test-build-key", "other-key");
    const keyFile = path.join(root, "other.pub");
    fs.writeFileSync(keyFile, other + "\n");
    assert.ok(lines(renderKickstart({ providers, build: "virtual/gcp", os, root, site: testSite(root), sshPublicKeyFile: keyFile })).includes(other));
    fs.rmSync(path.join(root, "keys", "packer.pub"));
    assert.throws(() => renderKickstart({ providers, build: "virtual/gcp", os, root, site: testSite(root) }), /build key: .*packer\.pub does not exist/);
    // metal hosts do not need the build key.
    renderKickstart({ providers, build: "metal/host1", os, root, site: testSite(root) });
    for (const bad of [TEST_KEY + "\nrm -rf /", "-----BEGIN OPENSSH PRIVATE KEY-----", "ssh-ed25519 AAAA'$(reboot)'", "not a key"]) {
        assert.throws(() => renderKickstart({ providers, build: "virtual/gcp", os, root, site: testSite(root), sshPublicKey: bad }), /sshPublicKey/);
    }
});

test("selinux: a build definition may set permissive or disabled; anything else is refused", () => {
    const root = fixtureRoot();
    const os = listOses(root)[0];
    const file = path.join(root, "http", "builds", "virtual", "openstack.yaml");
    fs.appendFileSync(file, "selinux: permissive\n");
    assert.ok(lines(renderKickstart({ providers, build: "virtual/openstack", os, root, site: testSite(root) })).includes("selinux --permissive"));
    fs.appendFileSync(file.replace("openstack", "gcp"), "selinux: off\n");
    assert.throws(() => renderKickstart({ providers, build: "virtual/gcp", os, root, site: testSite(root) }), /selinux must be one of enforcing, permissive, disabled/);
});

test("plaintext root passwords and unknown keys in definitions are refused", () => {
    const root = fixtureRoot();
    const os = listOses(root)[0];
    const host = path.join(root, "http", "builds", "metal", "host1.yaml");
    const original = fs.readFileSync(host, "utf8");
    fs.writeFileSync(host, original.replace(/hash: "\$6\$[^"]+"/, "password: hunter2"));
    assert.throws(() => renderKickstart({ providers, build: "metal/host1", os, root, site: testSite(root) }), /never a plaintext password/);
    fs.writeFileSync(host, original.replace(/hash: "\$6\$[^"]+"/, 'hash: "hunter2"'));
    assert.throws(() => renderKickstart({ providers, build: "metal/host1", os, root, site: testSite(root) }), /rootpw\.hash must be a SHA-512 crypt hash/);
    fs.writeFileSync(host, original + "netwrok: {}\n");
    assert.throws(() => renderKickstart({ providers, build: "metal/host1", os, root, site: testSite(root) }), /netwrok is not a known key/);
    fs.writeFileSync(host, original.replace("ip: 192.0.2.11", "ip: 192.0.2.300"));
    assert.throws(() => renderKickstart({ providers, build: "metal/host1", os, root, site: testSite(root) }), /network\.ip '192\.0\.2\.300' must be an IPv4 address/);
});

test("only regular files listed in the folder are definitions: a symlink is not", () => {
    const root = fixtureRoot();
    const os = listOses(root)[0];
    fs.writeFileSync(path.join(root, "outside.yaml"), "comment: OUTSIDE\n");
    fs.symlinkSync(path.join(root, "outside.yaml"), path.join(root, "http", "builds", "virtual", "evil.yaml"));
    assert.ok(!listBuilds(providers, root).includes("virtual/evil"));
    assert.throws(() => renderKickstart({ providers, build: "virtual/evil", os, root, site: testSite(root) }), UnknownChoiceError);
});

test("writeHttpDirectory writes ks.cfg for Packer's http_directory", () => {
    const out = path.join(tempDir("ks-http"), "nested", "http");
    const os = listOses()[0];
    const file = writeHttpDirectory(out, { providers, build: "virtual/virtualbox", os, site, sshPublicKey: TEST_KEY });
    assert.equal(file, path.join(out, "ks.cfg"));
    assert.equal(fs.readFileSync(file, "utf8"), render("virtual/virtualbox", os));
});

// The CLI, as `npm run --silent ks` runs it (ts-node on scripts/ks.ts).
function cli(args: string[]) {
    return spawnSync(process.execPath, ["--require", "ts-node/register", path.join(repoRoot, "scripts", "ks.ts"), ...args], {
        cwd: repoRoot,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
        encoding: "utf8",
    });
}

test("CLI prints a kickstart, writes --out DIR/ks.cfg, and exits 2 on bad input", () => {
    const dir = tempDir("ks-cli");
    const keyFile = path.join(dir, "build.pub");
    fs.writeFileSync(keyFile, TEST_KEY + "\n");
    const os = listOses().find((o) => !loadOs(o).install_url.includes("{{"))!;
    const ok = cli(["--build", "virtual/aws", "--os", os, "--ssh-key", keyFile]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^# Gold Standard Images kickstart/);
    assert.ok(lines(ok.stdout).includes(TEST_KEY));
    const out = cli(["--build", "metal/host1", "--os", os, "--out", path.join(dir, "http")]);
    assert.equal(out.status, 0, out.stderr);
    assert.match(fs.readFileSync(path.join(dir, "http", "ks.cfg"), "utf8"), /host1\.example\.com/);

    const bad: [string[], RegExp][] = [
        [["--build", "metal/nohost", "--os", os], /unknown metal host: 'metal\/nohost' is not valid; valid choices: metal\/host1/],
        [["--build", "virtual/aws", "--os", "Nope-1"], /unknown OS: 'Nope-1'/],
        [["--build", "virtual/aws"], /^ks: --os is required unless --list: /],
        [["--build", "virtual/aws", "--os", os, "--frobnicate"], /^ks: unknown option: '--frobnicate' is not valid; valid choices: --build, --os, /],
        [["--build", "virtual/aws", "--os", "Debian-12"], /^ks: OS: 'Debian-12' has no kickstart: /],
        [["--build", "virtual/aws", "--os", os, "--ssh-key", path.join(dir, "missing.pub")], /^ks: --ssh-key: .*missing\.pub is not a file/],
        [["--build", "virtual/../../etc", "--os", os], /must be <type>\/<name>/],
    ];
    for (const [args, message] of bad) {
        const r = cli(args);
        assert.equal(r.status, 2, args.join(" "));
        assert.equal(r.stdout, "");
        assert.match(r.stderr, message);
    }
});

test("CLI --list offers what it renders: every build, and only the OSes with a kickstart", () => {
    const r = cli(["--list"]);
    assert.equal(r.status, 0, r.stderr);
    const listed = Object.fromEntries(r.stdout.trim().split("\n").map((l) => [l.split(":")[0], l.split(": ")[1].split(" ")]));
    assert.deepEqual(listed.builds, listBuilds(providers));
    assert.deepEqual(listed.oses, listKickstartOses());
    const without = listOses().filter((o) => !hasKickstart(loadOs(o)));
    assert.ok(without.length > 0, "the recipe has an OS without a kickstart (Debian-12, a base from a disk image)");
    assert.deepEqual(listed.oses.filter((o: string) => without.includes(o)), []);
});

test("a QEMU build's installer reaches its repositories through the build proxy; a VirtualBox, VMware or metal install directly", () => {
    const os = "Rocky-9.8";
    const lines = (text: string) => text.split("\n").filter((l) => /^(url|repo) /.test(l));
    const proxied = lines(renderKickstart({ providers, build: "virtual/openstack", os, site, sshPublicKey: TEST_KEY, installProxy: GUEST_PROXY }));
    assert.ok(proxied.length >= 2 && proxied.every((l) => l.endsWith(` --proxy=${GUEST_PROXY}`)), proxied.join("\n"));
    for (const direct of [lines(render("virtual/openstack", os)), lines(render("metal/host1", os))]) {
        assert.ok(direct.length >= 2 && direct.every((l) => !l.includes("--proxy")), direct.join("\n"));
    }
    // The command of an ISO build asks for the proxy when its builder is QEMU only.
    const args = { stack: "s", os: loadOs(os), store: "file:///tmp/s", version: "1.0.0", siteOverrides: {}, accelerator: "tcg" };
    assert.match(isoBuildCommand("artifacts/x", args, "virtual/openstack", "qemu", "iso"), /scripts\/ks\.ts .*--proxy http:\/\/10\.0\.2\.100:3128 .*-only=qemu\.iso/);
    assert.doesNotMatch(isoBuildCommand("artifacts/x", args, "virtual/virtualbox", "virtualbox-iso", "iso"), /--proxy/);
});
