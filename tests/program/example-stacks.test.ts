// The example stack files of examples/stacks/ (one per cloud) are what a user copies to publish:
// each must pass the program's own checks as a publishing version stack, and together they
// must cover every provider.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { loadStackConfig, stackFileAt } from "../../components/config/stack-file";
import { preflight } from "../../components/pipeline";
import { providerNames } from "../../components/providers";
import { repoRoot } from "../../components/recipe/paths";
import { installMocks, registered } from "../support/program";

const dir = path.join(repoRoot, "examples", "stacks");
const files = fs.readdirSync(dir).filter((f) => /^Pulumi\..+\.yaml$/.test(f));

installMocks("1.4.0", {});

test("every example stack publishes, passes the config checks and plans its stages", () => {
    assert.ok(files.length >= 5, files.join(", "));
    const covered = new Set<string>();
    for (const f of files) {
        const config = loadStackConfig(stackFileAt(path.join(dir, f), "1.4.0"));
        assert.equal(config.publish, true, `${f} publishes`);
        const plans = preflight(config);
        assert.ok(plans.length > 0 && plans.every((p) => p.images.length === config.providers.length), f);
        for (const p of config.providers) covered.add(p.name);
    }
    assert.deepEqual([...covered].sort(), providerNames());
    assert.equal(registered.length, 0);
});

test("negative control: an example without a field its cloud requires is refused", () => {
    const broken = path.join(fs.mkdtempSync("/tmp/gold-example-"), "Pulumi.aws.yaml");
    fs.writeFileSync(broken, fs.readFileSync(path.join(dir, "Pulumi.aws.yaml"), "utf8").replace(/^    bucket: .*\n/m, ""));
    try {
        assert.throws(() => loadStackConfig(stackFileAt(broken, "1.4.0")), /config aws\.bucket is required when publish is true/);
    } finally {
        fs.rmSync(path.dirname(broken), { recursive: true, force: true });
    }
});
