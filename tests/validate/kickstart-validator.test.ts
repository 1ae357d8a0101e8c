// Every rendered kickstart through pykickstart's ksvalidator, with the handler of the OS's
// release (RHEL7, RHEL9, ...): what anaconda's own parser would refuse fails here first.
// Debian 12 does not package pykickstart (python3-pykickstart is not in bookworm), and PyPI is not
// reachable from these machines: without ksvalidator on PATH the test is skipped, visibly.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { listKickstarts, renderKickstart } from "../../components/kickstart/render";
import { providerNames } from "../../components/providers";
import { loadOs } from "../../components/recipe/os";
import { TEST_KEY, testSite } from "../support/kickstart-fixtures";
import { missingTool, pool, run, tempDir } from "../support/tools";

const skip = missingTool("ksvalidator")
    ? "ksvalidator (pykickstart) is not installed: Debian 12 has no package for it; install pykickstart to run this check"
    : undefined;

test("ksvalidator accepts every OS x build kickstart", { skip }, async () => {
    const site = testSite();
    const dir = tempDir("ksvalidator");
    const failures = (
        await pool(listKickstarts(providerNames()), 2, async ({ build, os }) => {
            const file = path.join(dir, `${build.replace("/", "_")}-${os}.ks`);
            fs.writeFileSync(file, renderKickstart({ providers: providerNames(), build, os, site, sshPublicKey: TEST_KEY }));
            const version = `RHEL${loadOs(os).os_major}`;
            const r = await run("ksvalidator", ["-v", version, file]);
            // ksvalidator exits 0 even for deprecation warnings; any output but its banner (pykickstart
            // 3.x names the file it checks) is worth failing on.
            const said = `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("Checking kickstart file "));
            return r.code === 0 && said.length === 0 ? "" : `${build} x ${os} (${version}): exit ${r.code}\n${r.stdout}${r.stderr}`;
        })
    ).filter(Boolean);
    assert.deepEqual(failures, []);
});
