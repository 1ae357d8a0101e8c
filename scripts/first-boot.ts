// The first-boot test of one image, as the program runs it and for users (a bare-metal
// hand-off, CI, an image from elsewhere):
//   npm run first-boot -- --provider <name> --image <artifact> [--os <id>] [--sha256 HEX] [--out DIR] [--build-key PUB]
// Boots the artifact the way that provider's cloud starts a machine (a key made for this test,
// given only the way that cloud gives it) and runs the provider's contract. --os names the OS
// (its cloud user and IMDS flavour; without it every OS's cloud user is tried). --out keeps the
// serial console log and the report (result.json); a failure keeps them as DIR.failed/.
// stdout: one JSON line {artifact, sha256, bytes, ok, login, checks, seconds}; exit 0 when
// every check passed, 1 with the failing check on stderr, 2 for bad input. stderr: the test's
// milestones as they happen (QEMU started, metadata asked, up, logged in, each check).
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { providerModule, providerNames } from "../components/providers";
import { firstBoot } from "../components/firstboot/run";
import { listOses, loadOs } from "../components/recipe/os";
import { recipePaths } from "../components/recipe/paths";

const USAGE = "usage: npm run first-boot -- --provider <name> --image <artifact> [--os <id>] [--sha256 HEX] [--out DIR] [--build-key PUB]";

function fail(message: string, code = 2): never {
    process.stderr.write(`first-boot: ${message}\n`);
    process.exit(code);
}

function sha256File(file: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const h = createHash("sha256");
        fs.createReadStream(file).on("data", (d) => h.update(d)).on("error", reject).on("end", () => resolve(h.digest("hex")));
    });
}

async function main(): Promise<void> {
    let values: Record<string, string | undefined>;
    try {
        values = parseArgs({
            args: process.argv.slice(2),
            strict: true,
            options: { provider: { type: "string" }, image: { type: "string" }, os: { type: "string" }, sha256: { type: "string" }, out: { type: "string" }, "build-key": { type: "string" } },
        }).values as Record<string, string | undefined>;
    } catch (e) {
        return fail(`${(e as Error).message}\n${USAGE}`);
    }
    if (!values.provider || !values.image) fail(`--provider and --image are required\n${USAGE}`);
    if (!providerNames().includes(values.provider!)) fail(`--provider '${values.provider}' is not valid; valid choices: ${providerNames().join(", ")}`);
    const provider = providerModule(values.provider!);
    const image = path.resolve(values.image!);
    if (!fs.statSync(image, { throwIfNoEntry: false })?.isFile()) fail(`--image ${image} is not a file`);
    if (values.os !== undefined && !listOses().includes(values.os)) fail(`--os '${values.os}' is not valid; valid choices: ${listOses().join(", ")}`);
    if (values.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(values.sha256)) fail(`--sha256 '${values.sha256}' is not 64 lowercase hex digits`);
    const os = values.os ? loadOs(values.os) : undefined;
    const users = os ? [os.cloud_user] : [...new Set(listOses().map((id) => loadOs(id).cloud_user))];

    // The image tested is the one the caller names: same bytes, or no test.
    const sha256 = await sha256File(image);
    if (values.sha256 && values.sha256 !== sha256) fail(`--image ${image} has sha256 ${sha256}, not ${values.sha256}`, 1);

    const out = values.out ? path.resolve(values.out) : undefined;
    const work = out ? `${out}.partial` : fs.mkdtempSync("/tmp/gold-first-boot-out-");
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work, { recursive: true });
    const buildKeyFile = values["build-key"] ?? path.join(recipePaths().keys, "packer.pub");
    const result = await firstBoot({
        provider: provider.name,
        firstBoot: provider.firstBoot,
        artifact: image,
        format: provider.format,
        defaultUsers: users,
        imdsV2Only: os?.imds_v2 ?? false,
        buildKey: fs.existsSync(buildKeyFile) ? fs.readFileSync(buildKeyFile, "utf8") : undefined,
        serialLog: path.join(work, "serial.log"),
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
    if (!result.ok) {
        process.stderr.write(`first-boot: ${provider.name}: ${result.failure}${out ? ` (serial console: ${out}.failed/serial.log)` : ""}\n`);
        process.exit(1);
    }
    process.stdout.write(JSON.stringify(report) + "\n");
}

main().catch((e) => fail((e as Error).stack ?? String(e), 1));
