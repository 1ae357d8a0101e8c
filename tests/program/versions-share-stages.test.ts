// A new version of an unchanged recipe builds nothing: no stage's fingerprint (base, variant,
// conversion, first-boot test) depends on the version, so a new version stack finds every stage
// in the store. The version is in the names publishers give (files, images, tags, catalogs).
import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "../../components/config";
import { preflight, stageFingerprints, stageNames } from "../../components/pipeline";
import { fingerprint } from "../../components/fingerprint";
import { convertedName, seedFileName } from "../../components/stages/conversion";
import { listOses } from "../../components/recipe/os";
import { providerNames } from "../../components/providers";
import { installMocks, setConfig } from "../support/program";

const stack = {
    oses: listOses(),
    providers: providerNames(),
    site: { repo_server: "http://mirror.example.com/repos" },
    baseImages: { "Debian-12": { path: "/var/lib/images/debian-12.qcow2", checksum: `sha256:${"a".repeat(64)}` } },
};
installMocks("1.4.0", stack);

const planOf = (version: string) => {
    setConfig(stack);
    return preflight(loadConfig(new pulumi.Config(), version));
};

test("every OS × provider: versions 1.4.0, 1.5.0 and 2.0.0-rc.1 plan the same stages (base, variant, conversion, test)", () => {
    const [a, b, c] = ["1.4.0", "1.5.0", "2.0.0-rc.1"].map(planOf);
    const all = stageFingerprints(a);
    assert.equal(all.length, listOses().length * (1 + 3 * providerNames().length), "every stage planned (a base per OS, three stages per image)");
    assert.deepEqual(stageFingerprints(b), all);
    assert.deepEqual(stageFingerprints(c), all);
    // What differs is the published name only.
    assert.notEqual(a[0].images[0].artifactName, b[0].images[0].artifactName);
    assert.deepEqual(stageNames(a[0]), stageNames(b[0]));
});

test("control: a conversion whose inputs named the version (as before) would differ between versions", () => {
    const [a, b] = ["1.4.0", "1.5.0"].map(planOf);
    const withVersion = (plan: typeof a, version: string) => {
        const c = plan[0].images[0].conversion;
        return fingerprint({ ...c.inputs, values: { ...c.inputs.values, name: `${plan[0].os.vm_name}-${version}_${plan[0].images[0].provider.name}` } }, loadConfig(new pulumi.Config(), version).recipe);
    };
    assert.equal(a[0].images[0].conversion.fingerprint, b[0].images[0].conversion.fingerprint);
    assert.notEqual(withVersion(a, "1.4.0"), withVersion(b, "1.5.0"));
});

test("a stored conversion is placed under each version's seed name (npm run stage -- --materialize, publishers)", () => {
    const [plan] = planOf("1.4.0").filter((p) => p.os.vm_name === "CentOS-7.3.1611");
    const gcp = plan.images.find((i) => i.provider.name === "gcp")!;
    assert.equal(convertedName(plan.os, gcp.provider), "CentOS-7.3.1611_gcp");
    assert.equal(seedFileName(plan.os, gcp.provider, "1.5.0", "CentOS-7.3.1611_gcp.tar.gz"), "CentOS-7.3.1611-1.5.0_gcp.tar.gz");
    assert.equal(gcp.artifactName, "CentOS-7.3.1611-1.4.0_gcp");
    // Another image's file is not renamed as this one's.
    assert.throws(() => seedFileName(plan.os, gcp.provider, "1.5.0", "CentOS-7.3.1611_aws.vhd"), /not a conversion of CentOS-7\.3\.1611 for gcp/);
});
