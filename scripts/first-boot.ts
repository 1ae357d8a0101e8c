// The first-boot test of one image, as the program runs it and for users (a bare-metal
// hand-off, CI, an image from elsewhere):
//   npm run first-boot -- --provider <name> --image <artifact> [--os <id>] [--boot MODE] [--sha256 HEX] [--out DIR] [--build-key PUB]
// Boots the artifact the way that provider's cloud starts a machine (a key made for this test,
// given only the way that cloud gives it) and runs the provider's contract. --os names the OS
// (its cloud user and IMDS flavour; without it every OS's cloud user is tried). --out keeps the
// serial console log and the report (result.json); a failure keeps them as DIR.failed/.
// stdout: one JSON line {artifact, sha256, bytes, ok, login, checks, seconds}; exit 0 when
// every check passed, 1 with the failing check on stderr, 2 for bad input. stderr: the test's
// milestones as they happen (QEMU started, metadata asked, up, logged in, each check).
import * as fs from "fs";
import * as path from "path";
import { matches, parseOrExit, runMain, UsageError } from "../components/cli/args";
import { providerModule, providerNames } from "../components/providers";
import { sha256File } from "../components/firstboot/exec";
import { firstBoot } from "../components/firstboot/run";
import { BIOS, BOOT_NAMES, bootFromName } from "../components/firstboot/mechanism";
import { defaultBootMode } from "../components/providers/provider";
import { listOses, loadOs } from "../components/recipe/os";
import { recipePaths } from "../components/recipe/paths";

const PROGRAM = { name: "first-boot", run: "npm run first-boot --" };
const SPEC = {
    summary: "Boots an image the way a provider's cloud starts a machine and runs that provider's first-boot checks; prints one JSON line.",
    options: {
        provider: { help: "whose cloud's first boot to play", required: true, value: "NAME", example: "aws", choices: providerNames },
        image: { help: "the image file (the provider's artifact)", required: true, value: "FILE" },
        os: { help: "the image's OS: its cloud user and IMDS flavour (default: every OS's cloud user is tried)", value: "ID", choices: listOses },
        sha256: { help: "the image's expected sha256: another file is not tested", value: "HEX", check: matches(/^[0-9a-f]{64}$/, "64 lowercase hex digits") },
        out: { help: "keep the serial console log and result.json here (DIR.failed on a failure)", value: "DIR" },
        dockerfile: { help: "a container image's Dockerfile, the one its publisher builds with (docker; the conversion's context/Dockerfile)", value: "FILE" },
        boot: { help: "how the cloud's machine boots it (default: the provider's way for --os with default settings; bios without --os)", value: "MODE", choices: () => BOOT_NAMES, example: "uefi+secure-boot+tpm" },
        ways: { help: "the ways of the cloud to boot it, comma-separated (openstack: config-drive, metadata-service; default: every way, each a boot)", value: "LIST", example: "metadata-service" },
        "build-key": { help: "the build's public key, which must be nowhere on the image (default: keys/packer.pub; the test does not run without one)", value: "PUB" },
    },
    examples: ["npm run first-boot -- --provider openstack --image artifacts/1.4.0/Rocky-9.8/openstack/Rocky-9.8-1.4.0_openstack.qcow2 --os Rocky-9.8 --out /tmp/fb"],
} as const;

async function main(): Promise<unknown> {
    const { values } = parseOrExit(PROGRAM, SPEC, process.argv.slice(2));
    const image = path.resolve(values.image);
    if (!fs.statSync(image, { throwIfNoEntry: false })?.isFile()) throw new UsageError(`--image: ${image} is not a file`);
    const provider = providerModule(values.provider);
    const os = values.os ? loadOs(values.os) : undefined;
    const users = os ? [os.cloud_user] : [...new Set(listOses().map((id) => loadOs(id).cloud_user))];

    // The image tested is the one the caller names: same bytes, or no test.
    if (provider.firstBoot.kind === "container" && !values.dockerfile) throw new UsageError(`--dockerfile: ${provider.name}'s test builds the image its publisher pushes: name the conversion's ${provider.firstBoot.dockerfile}`);
    if (values.dockerfile && !fs.statSync(values.dockerfile, { throwIfNoEntry: false })?.isFile()) throw new UsageError(`--dockerfile: ${values.dockerfile} is not a file`);
    const ways = values.ways?.split(",");
    const known = provider.firstBoot.kind === "vm" ? (provider.firstBoot.ways ?? []) : [];
    const unknown = ways?.find((w) => !known.includes(w));
    if (unknown !== undefined) throw new UsageError(`--ways: '${unknown}' is not valid for ${provider.name}; valid choices: ${known.join(", ") || "none (its cloud has one way)"}`);
    // Without --boot, the boot its cloud gives this OS's image by default (a provider's defaults
    // are its fields' defaults).
    const boot = values.boot ? bootFromName(values.boot) : os ? defaultBootMode(provider, os) : BIOS;
    const sha256 = await sha256File(image);
    if (values.sha256 && values.sha256 !== sha256) throw new Error(`--image ${image} has sha256 ${sha256}, not ${values.sha256}`);

    const out = values.out ? path.resolve(values.out) : undefined;
    const work = out ? `${out}.partial` : fs.mkdtempSync("/tmp/gold-first-boot-out-");
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work, { recursive: true });
    const buildKeyFile = values["build-key"] ?? path.join(recipePaths().keys, "packer.pub");
    // Without it, "no build key anywhere" would pass for any image: no test at all.
    if (!fs.existsSync(buildKeyFile)) throw new UsageError(`--build-key: ${buildKeyFile} does not exist: the test proves the build key is nowhere on the image, so it needs it (npm run keys makes keys/packer.pub; or name the build's public key)`);
    const buildKey = fs.readFileSync(buildKeyFile, "utf8");
    if (!/^\S+ [A-Za-z0-9+/=]{20,}/.test(buildKey.trim())) throw new UsageError(`--build-key: ${buildKeyFile} is not an SSH public key`);
    const result = await firstBoot({
        provider: provider.name,
        firstBoot: provider.firstBoot,
        artifact: image,
        format: provider.format,
        defaultUsers: users,
        imdsV2Only: os?.imds_v2 ?? false,
        ways,
        boot,
        kernelDrivers: os?.kernel_drivers,
        buildKey,
        dockerfile: values.dockerfile && path.resolve(values.dockerfile),
        serialLog: path.join(work, "serial.log"),
        keep: work,
        log: (line) => process.stderr.write(`first-boot: ${line}\n`),
    });
    const report = { artifact: image, sha256, bytes: fs.statSync(image).size, ...result };
    fs.writeFileSync(path.join(work, "result.json"), JSON.stringify(report, null, 2) + "\n");
    if (out) {
        // Kept either way: a passing test beside the artifact, a failing one as DIR.failed.
        const target = result.ok ? out : `${out}.failed`;
        fs.rmSync(target, { recursive: true, force: true });
        fs.renameSync(work, target);
    }
    if (!result.ok) throw new Error(`${provider.name}: ${result.failure}${out ? ` (serial console: ${out}.failed/serial.log)` : ""}`);
    return report;
}

runMain(PROGRAM, main);
