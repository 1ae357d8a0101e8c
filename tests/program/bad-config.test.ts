// Every bad value is refused with one error naming the key, the value and the valid choices,
// before any resource is registered (the engine would start building at the first one).
import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "../../components/config";
import { preflight } from "../../components/pipeline";
import { installMocks, registered, setConfig } from "../support/program";

const ok = { oses: ["CentOS-7.3.1611"], providers: ["gcp"] };
const pub = { ...ok, publish: true };
const awsPub = { ...pub, providers: ["aws"], aws: { region: "eu-west-1", bucket: "gold-import" } };

const CASES: [string, Record<string, unknown>, RegExp, string?][] = [
    ["unknown OS", { ...ok, oses: ["CentOS-9"] }, /config oses: 'CentOS-9' is not valid; valid choices: .*CentOS-7\.2\.1511, CentOS-7\.3\.1611/],
    ["no OS", { ...ok, oses: [] }, /config oses: \[\] is not valid; valid choices: /],
    ["OSes not a list", { ...ok, oses: "CentOS-7.3.1611" }, /config oses: .* is not valid; it must be a list/],
    ["unknown provider", { ...ok, providers: ["azure", "ec2"] }, /config providers: 'ec2' is not valid; valid choices: aws, azure, docker, gcp, openstack, virtualbox, vmware/],
    ["no provider", { ...ok, providers: [] }, /config providers: \[\] is not valid; valid choices: aws/],
    ["version not semver", { ...ok, version: "1.4" }, /config version: '1\.4' is not a semantic version/],
    ["stack name not a version", ok, /config version: 'dev' is not a semantic version .*name the stack after the version/, "dev"],
    ["publish not a boolean", { ...ok, publish: "yes" }, /config publish: "yes" is not valid; it must be true or false/],
    ["negative parallelBuilds", { ...ok, parallelBuilds: -1 }, /config parallelBuilds: -1 is not valid; it must be a whole number: 0 \(half the cores\) or 1 to 64/],
    ["fractional parallelBuilds", { ...ok, parallelBuilds: 1.5 }, /config parallelBuilds: 1\.5 is not valid; it must be a whole number/],
    ["AWS region missing when publishing", { ...pub, providers: ["aws"], aws: { bucket: "gold-import" } }, /config aws\.region is required when publish is true/],
    ["AWS region not a region", { ...awsPub, aws: { ...awsPub.aws, region: "Ireland" } }, /config aws\.region: "Ireland" is not valid; it must be an AWS region such as eu-west-1/],
    ["AWS copy region", { ...awsPub, aws: { ...awsPub.aws, copyRegions: ["us-east-1", "mars-1"] } }, /config aws\.copyRegions: .*mars-1.* it must be a list of AWS regions/],
    ["AWS account id", { ...awsPub, aws: { ...awsPub.aws, shareWithAccounts: ["1234"] } }, /config aws\.shareWithAccounts: \["1234"\] .* 12-digit AWS account ids/],
    ["AWS boot mode", { ...awsPub, aws: { ...awsPub.aws, bootMode: "bios" } }, /config aws\.bootMode: 'bios' is not valid; valid choices: legacy-bios, uefi, uefi-preference/],
    ["AWS key typo", { ...awsPub, aws: { ...awsPub.aws, regoin: "eu-west-1" } }, /config aws: unknown key: 'regoin' is not valid; valid choices: region, bucket/],
    ["AWS settings not an object", { ...ok, aws: "eu-west-1" }, /config aws: "eu-west-1" is not valid; it must be an object/],
    ["Azure storage account missing", { ...pub, providers: ["azure"], azure: { resourceGroup: "rg", location: "westeurope" } }, /config azure\.storageAccount is required when publish is true/],
    ["Azure storage account name", { ...pub, providers: ["azure"], azure: { resourceGroup: "rg", location: "westeurope", storageAccount: "Gold_Images" } }, /config azure\.storageAccount: "Gold_Images" .* 3-24 lowercase letters and digits/],
    ["Azure Hyper-V generation", { ...ok, azure: { hyperVGeneration: "V3" } }, /config azure\.hyperVGeneration: 'V3' is not valid; valid choices: V1, V2/],
    ["Azure gallery with a pre-release", { ...pub, version: "1.0.0-rc.1", providers: ["azure"], azure: { resourceGroup: "rg", location: "westeurope", storageAccount: "gold", gallery: "g" } }, /'1\.0\.0-rc\.1' cannot be an Azure Compute Gallery image version/],
    ["GCP project missing", { ...pub, gcp: { bucket: "b-images" } }, /config gcp\.project is required when publish is true/],
    ["GCP family", { ...ok, gcp: { family: "Gold_Family" } }, /config gcp\.family: "Gold_Family" .* lowercase letters, digits and '-'/],
    ["OpenStack visibility", { ...ok, openstack: { visibility: "everyone" } }, /config openstack\.visibility: 'everyone' is not valid; valid choices: private, public, shared, community/],
    ["Docker repository case", { ...ok, docker: { repository: "Gold/Base" } }, /config docker\.repository: "Gold\/Base" .* lowercase repository name/],
    ["Vagrant catalog URL", { ...ok, virtualbox: { catalogUrl: "ftp://boxes" } }, /config virtualbox\.catalogUrl: "ftp:\/\/boxes" .* http\(s\):\/\/ or file:\/\/ URL/],
    ["builder", { ...ok, gcp: { builder: "docker" } }, /config gcp\.builder: 'docker' is not valid; valid choices: variant, iso/],
    ["site variable typo", { ...ok, site: { timezon: "UTC" } }, /config site: unknown key: 'timezon' is not valid; valid choices: .*timezone/],
    ["site variable owned by the program", { ...ok, site: { version: "2.0.0" } }, /config site\.version: is set by the program/],
    ["base image for an OS not in the stack", { ...ok, baseImages: { "Rocky-9.8": { path: "x.qcow2" } } }, /config baseImages: unknown key: 'Rocky-9\.8' is not valid; valid choices: CentOS-7\.3\.1611/],
    ["base image checksum", { ...ok, baseImages: { "CentOS-7.3.1611": { path: "x.qcow2", checksum: "md5:1" } } }, /config baseImages\.CentOS-7\.3\.1611\.checksum: "md5:1" .* "none" or "sha256:<64 hex>"/],
    ["RHEL without the site's repo_server", { ...ok, oses: ["RedHat-7.2"] }, /repo_server/],
    ["an OS without kickstart and no base image", { ...ok, oses: ["Debian-12"] }, /config baseImages\.Debian-12 is required: Debian-12 has no kickstart/],
    ["the ISO build of an OS without kickstart", { ...ok, oses: ["Debian-12"], gcp: { builder: "iso" }, baseImages: { "Debian-12": { path: "x.qcow2" } } }, /config gcp\.builder: 'iso' is not valid for Debian-12, which has no kickstart; valid choices: variant/],
    ["bad locale reaches no kickstart", { ...ok, site: { locale: "en_US.UTF-8; reboot" } }, /config site\.locale: "en_US\.UTF-8; reboot" is not valid; it must be a locale such as en_US\.UTF-8/],
];

installMocks("1.0.0", ok);

test(`${CASES.length} bad configurations: each refused with its message, nothing registered`, () => {
    assert.ok(CASES.length >= 20);
    for (const [what, config, message, stack] of CASES) {
        setConfig(config);
        assert.throws(() => preflight(loadConfig(new pulumi.Config(), stack ?? "1.0.0")), message, what);
    }
    assert.equal(registered.length, 0);
});

test("the good configuration these cases start from passes", () => {
    for (const config of [ok, { ...awsPub }]) {
        setConfig(config);
        preflight(loadConfig(new pulumi.Config(), "1.0.0"));
    }
});

test("the program itself stops before registering anything", () => {
    setConfig({ ...ok, providers: ["ec2"] });
    assert.throws(() => require("../../index"), /config providers: 'ec2' is not valid/);
    assert.equal(registered.length, 0);
});
