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
    ["firstBoot not a choice", { ...ok, firstBoot: "maybe" }, /config firstBoot: 'maybe' is not valid; valid choices: true, false, skip-unsafe/],
    ["publishing untested silently", { ...pub, gcp: { project: "gold-images-1", bucket: "b-images" }, firstBoot: false }, /config firstBoot: 'false' is not valid with publish true: .*valid choices: true \(.*\), skip-unsafe \(published untested, each marked gold-untested\)/],
    ["publish not a boolean", { ...ok, publish: "yes" }, /config publish: "yes" is not valid; it must be true or false/],
    ["negative parallelBuilds", { ...ok, parallelBuilds: -1 }, /config parallelBuilds: -1 is not valid; it must be a whole number: 0 \(half the cores\) or 1 to 64/],
    ["fractional parallelBuilds", { ...ok, parallelBuilds: 1.5 }, /config parallelBuilds: 1\.5 is not valid; it must be a whole number/],
    ["AWS region missing when publishing", { ...pub, providers: ["aws"], aws: { bucket: "gold-import" } }, /config aws\.region is required when publish is true/],
    ["AWS region not a region", { ...awsPub, aws: { ...awsPub.aws, region: "Ireland" } }, /config aws\.region: "Ireland" is not valid; it must be an AWS region such as eu-west-1/],
    ["AWS copy region", { ...awsPub, aws: { ...awsPub.aws, copyRegions: ["us-east-1", "mars-1"] } }, /config aws\.copyRegions: .*mars-1.* it must be a list of AWS regions/],
    ["AWS account id", { ...awsPub, aws: { ...awsPub.aws, shareWithAccounts: ["1234"] } }, /config aws\.shareWithAccounts: \["1234"\] .* 12-digit AWS account ids/],
    ["AWS boot mode", { ...awsPub, aws: { ...awsPub.aws, bootMode: "bios" } }, /config aws\.bootMode: 'bios' is not valid; valid choices: uefi-preferred, uefi, legacy-bios$/],
    ["AWS key typo", { ...awsPub, aws: { ...awsPub.aws, regoin: "eu-west-1" } }, /config aws: unknown key: 'regoin' is not valid; valid choices: region, bucket/],
    ["AWS settings not an object", { ...ok, aws: "eu-west-1" }, /config aws: "eu-west-1" is not valid; it must be an object/],
    ["Azure storage account missing", { ...pub, providers: ["azure"], azure: { resourceGroup: "rg", location: "westeurope" } }, /config azure\.storageAccount is required when publish is true/],
    ["Azure storage account name", { ...pub, providers: ["azure"], azure: { resourceGroup: "rg", location: "westeurope", storageAccount: "Gold_Images" } }, /config azure\.storageAccount: "Gold_Images" .* 3-24 lowercase letters and digits/],
    ["Azure Hyper-V generation", { ...ok, azure: { hyperVGeneration: "V3" } }, /config azure\.hyperVGeneration: 'V3' is not valid; valid choices: V2, V1$/],
    ["Azure gallery missing when publishing", { ...pub, providers: ["azure"], azure: { resourceGroup: "rg", location: "westeurope", storageAccount: "gold" } }, /config azure\.gallery is required when publish is true/],
    ["Azure gallery with a pre-release", { ...pub, version: "1.0.0-rc.1", providers: ["azure"], azure: { resourceGroup: "rg", location: "westeurope", storageAccount: "gold", gallery: "g" } }, /'1\.0\.0-rc\.1' cannot be an Azure Compute Gallery image version/],
    ["GCP project missing", { ...pub, gcp: { bucket: "b-images" } }, /config gcp\.project is required when publish is true/],
    ["GCP family", { ...ok, gcp: { family: "Gold_Family" } }, /config gcp\.family: "Gold_Family" .* lowercase letters, digits and '-'/],
    ["OpenStack visibility", { ...ok, openstack: { visibility: "everyone" } }, /config openstack\.visibility: 'everyone' is not valid; valid choices: private, public, shared, community/],
    ["Docker repository case", { ...ok, docker: { repository: "Gold/Base" } }, /config docker\.repository: "Gold\/Base" .* lowercase repository name/],
    // The artifact store: a URL is parsed, never handed to a shell or a cloud SDK as typed.
    ["store scheme", { ...ok, artifactStore: "ftp://mirror/images" }, /config artifactStore: .*the scheme 'ftp' is not one of file, s3, azblob, gs; valid forms: a directory/],
    ["store S3 bucket name", { ...ok, artifactStore: "s3://Gold_Images/x" }, /config artifactStore: .*'gold_images' is not an S3 bucket name|config artifactStore: .*is not an S3 bucket name/],
    ["store S3 credentials in the URL", { ...ok, artifactStore: "s3://AKIA:secret@gold-images" }, /config artifactStore: .*credentials do not go in the URL/],
    ["store S3 endpoint", { ...ok, artifactStore: "s3://gold-images?endpoint=javascript:alert(1)" }, /config artifactStore: .*endpoint 'javascript:alert\(1\)' is not an http\(s\):\/\/host\[:port\] URL/],
    ["store S3 unknown setting", { ...ok, artifactStore: "s3://gold-images?acl=public-read" }, /config artifactStore: .*'acl' is not a setting of a s3 store; valid: region, endpoint/],
    ["store S3 region", { ...ok, artifactStore: "s3://gold-images?region=Ireland" }, /config artifactStore: .*region 'Ireland' is not an AWS region/],
    ["store prefix with a command", { ...ok, artifactStore: "gs://gold-images/$(reboot)" }, /config artifactStore: .*the prefix '\$\(reboot\)' may have only letters, digits/],
    ["store prefix climbing", { ...ok, artifactStore: "s3://gold-images/a/../../b" }, /config artifactStore: .*'\.' and '\.\.' segments are not allowed in a store URL/],
    ["store Azure container", { ...ok, artifactStore: "azblob://goldimages/Images" }, /config artifactStore: .*'Images' is not a container name/],
    ["store file URL of a host", { ...ok, artifactStore: "file://fileserver/share" }, /config artifactStore: .*names a directory of this machine \(file:\/\/\/abs\/path\), not of host 'fileserver'/],
    ["store the root directory", { ...ok, artifactStore: "/" }, /config artifactStore: '\/' is not a directory for the store|config artifactStore: .*is not a directory for the store/],
    ["store in another Azure account", { ...pub, providers: ["azure"], artifactStore: "azblob://othershop/images", azure: { resourceGroup: "rg", location: "westeurope", storageAccount: "goldimages", gallery: "g" } }, /config artifactStore: 'azblob:\/\/othershop\/images' is in storage account 'othershop', not azure\.storageAccount 'goldimages'; valid: /],
    ["Vagrant catalog URL", { ...ok, virtualbox: { catalogUrl: "ftp://boxes" } }, /config virtualbox\.catalogUrl: "ftp:\/\/boxes" .* http\(s\):\/\/ or file:\/\/ URL/],
    ["builder", { ...ok, gcp: { builder: "docker" } }, /config gcp\.builder: 'docker' is not valid; valid choices: variant, iso/],
    ["variantMode", { ...ok, variantMode: "nspawn" }, /config variantMode: 'nspawn' is not valid; valid choices: chroot, boot/],
    ["a provider's variantMode", { ...ok, gcp: { variantMode: "$(reboot)" } }, /config gcp\.variantMode: '\$\(reboot\)' is not valid; valid choices: chroot, boot/],
    ["site variable typo", { ...ok, site: { timezon: "UTC" } }, /config site: unknown key: 'timezon' is not valid; valid choices: .*timezone/],
    ["site variable owned by the program", { ...ok, site: { version: "2.0.0" } }, /config site\.version: is set by the program/],
    ["base image for an OS not in the stack", { ...ok, baseImages: { "Rocky-9.8": { path: "x.qcow2" } } }, /config baseImages: unknown key: 'Rocky-9\.8' is not valid; valid choices: CentOS-7\.3\.1611/],
    ["base image checksum", { ...ok, baseImages: { "CentOS-7.3.1611": { path: "x.qcow2", checksum: "md5:1" } } }, /config baseImages\.CentOS-7\.3\.1611\.checksum: "md5:1" .* "none" or "sha256:<64 hex>"/],
    ["RHEL without the site's repo_server", { ...ok, oses: ["RedHat-7.2"] }, /repo_server/],
    ["an OS without kickstart and no base image", { ...ok, oses: ["Debian-12"] }, /config baseImages\.Debian-12 is required: Debian-12 has no kickstart/],
    ["the ISO build of an OS without kickstart", { ...ok, oses: ["Debian-12"], gcp: { builder: "iso" }, baseImages: { "Debian-12": { path: "x.qcow2" } } }, /config gcp\.builder: 'iso' is not valid for Debian-12, which has no kickstart; valid choices: variant/],
    ["bad locale reaches no kickstart", { ...ok, site: { locale: "en_US.UTF-8; reboot" } }, /config site\.locale: "en_US\.UTF-8; reboot" is not valid; it must be a locale such as en_US\.UTF-8/],

    // --- Refused since the hardening (issue 10) -------------------------------------------
    ["version with a leading-zero pre-release", { ...ok, version: "1.0.0-01" }, /config version: '1\.0\.0-01' is not a semantic version/],
    ["version with empty pre-release parts", { ...ok, version: "1.0.0-.." }, /config version: '1\.0\.0-\.\.' is not a semantic version/],
    ["version with a v", { ...ok, version: "v1.0.0" }, /config version: 'v1\.0\.0' is not a semantic version/],
    ["version too long for directories", { ...ok, version: `1.0.0-${"a".repeat(60)}` }, /config version: '1\.0\.0-a+…' is too long \(66 characters\): at most 64/],
    ["version too long for a GCP image name", { ...pub, version: `1.0.0-${"a".repeat(40)}`, gcp: { project: "gold-images-1", bucket: "b-images" } }, /config version: .* is too long: the GCP image name .* has \d+ characters, at most 63/],
    // (Publishing, a version is MAJOR.MINOR.PATCH for the gallery, which no OS id makes too long.)
    ["version too long for an Azure image name", { ...ok, providers: ["azure"], version: `1.0.0-${"a".repeat(55)}` }, /config version: .* is too long: the Azure image name .* at most 80/],
    ["parallelBuilds unbounded", { ...ok, parallelBuilds: 1e9 }, /config parallelBuilds: 1000000000 is not valid; it must be a whole number: 0 \(half the cores\) or 1 to 64/],
    ["an unknown top-level key", { ...ok, provider: ["gcp"] }, /config: unknown key: 'provider' is not valid; valid choices: version, oses, providers, publish/],
    ["an OS twice", { ...ok, oses: ["CentOS-7.3.1611", "CentOS-7.3.1611"] }, /config oses: \["CentOS-7\.3\.1611","CentOS-7\.3\.1611"\] is not valid; it must be a list of OS ids, each at most once/],
    ["a provider twice", { ...ok, providers: ["gcp", "gcp"] }, /config providers: .* it must be a list of provider names, each at most once/],
    ["duplicate copy regions", { ...awsPub, aws: { ...awsPub.aws, copyRegions: ["us-east-1", "us-east-1"] } }, /config aws\.copyRegions: \["us-east-1","us-east-1"\] is not valid; it must be a list of AWS regions, each at most once/],
    ["duplicate share accounts", { ...awsPub, aws: { ...awsPub.aws, shareWithAccounts: ["123456789012", "123456789012"] } }, /config aws\.shareWithAccounts: .* each at most once/],
    ["a base image that is a system file", { ...ok, baseImages: { "CentOS-7.3.1611": { path: "/etc/passwd" } } }, /config baseImages\.CentOS-7\.3\.1611\.path: "\/etc\/passwd" is not valid; it must be the path of a disk image .*: \/etc\/passwd is .* too small for a disk image/],
    ["a base image that is a directory", { ...ok, baseImages: { "CentOS-7.3.1611": { path: "/tmp" } } }, /config baseImages\.CentOS-7\.3\.1611\.path: "\/tmp" .* \/tmp is not a regular file/],
    ["base image qemuargs not lists", { ...ok, baseImages: { "CentOS-7.3.1611": { path: "/nonexistent.qcow2", qemuargs: "-kernel x" } } }, /config baseImages\.CentOS-7\.3\.1611\.qemuargs: "-kernel x" is not valid; it must be a list of at most 16 argument lists/],
    ["base image qemuargs too many", { ...ok, baseImages: { "CentOS-7.3.1611": { path: "/nonexistent.qcow2", qemuargs: Array(17).fill(["-x"]) } } }, /config baseImages\.CentOS-7\.3\.1611\.qemuargs: .* a list of at most 16 argument lists/],
    ["base image user with a space", { ...ok, baseImages: { "CentOS-7.3.1611": { path: "/nonexistent.qcow2", sshUsername: "root me" } } }, /config baseImages\.CentOS-7\.3\.1611\.sshUsername: "root me" is not valid; it must be a user name/],
    ["disk size a word", { ...ok, site: { disk_size: "big" } }, /config site\.disk_size: "big" is not valid; it must be a disk size in MiB from 2048 to 2097152/],
    ["negative memory", { ...ok, site: { memory: -1 } }, /config site\.memory: -1 is not valid; it must be a memory size in MiB/],
    ["headless as a word", { ...ok, site: { headless: "no" } }, /config site\.headless: "no" is not valid; it must be true or false/],
    ["an unknown accelerator", { ...ok, site: { accelerator: "bogus" } }, /config site\.accelerator: 'bogus' is not valid; valid choices: kvm, tcg, hvf, whpx, xen, none/],
    ["ansible_extra_args as a string", { ...ok, site: { ansible_extra_args: "-vv" } }, /config site\.ansible_extra_args: "-vv" is not valid; it must be a list of ansible-playbook options/],
    ["ansible_extra_args setting variables", { ...ok, site: { ansible_extra_args: ["-e", "x={{ lookup('pipe','id') }}"] } }, /config site\.ansible_extra_args: .* it must be a list of ansible-playbook options among -v…-vvvv, --diff, --tags=…, --skip-tags=…/],
    ["namespace with a slash", { ...ok, site: { namespace: "acme/gold" } }, /config site\.namespace: "acme\/gold" is not valid; it must be a name of letters, digits/],
    ["a NUL in a value", { ...ok, site: { timezone: "UTC\u0000" } }, /config site\.timezone: "UTC\\u0000" is not valid; it must be a time zone/],
    ["a 100 kB value, shown cut", { ...ok, site: { keyboard: "a".repeat(100_000) } }, /config site\.keyboard: "a{10,}… \(100000 characters\) is not valid; it must be a keyboard layout such as us or de-latin1, at most 64 characters$/],
    ["Jinja in repo_server", { ...ok, site: { repo_server: "http://x/{{ lookup('pipe','id') }}" } }, /config site\.repo_server: .* is not valid; it must be an http\(s\):\/\/ URL, or empty/],
    // A build reaches the site mirror through its proxy: never the metadata service, never ftp.
    ["the metadata service as the site mirror", { ...ok, site: { repo_server: "http://169.254.169.254/latest" } }, /config site\.repo_server: .* an http\(s\):\/\/ URL, or empty; 'http:\/\/169\.254\.169\.254\/latest' names a link-local \(instance metadata\) address, which no build may reach/],
    ["an ftp site mirror", { ...ok, site: { repo_server: "ftp://mirror.example.com/repos" } }, /config site\.repo_server: "ftp:\/\/mirror\.example\.com\/repos" is not valid; it must be an http\(s\):\/\/ URL, or empty/],
    ["the metadata service as gcp's guest repository", { ...ok, gcp: { guestRepo: "http://169.254.169.254/computeMetadata" } }, /config gcp\.guestRepo: .* names a link-local \(instance metadata\) address/],
    ["Jinja in the locale of an OS without kickstart", { ...ok, oses: ["Debian-12"], baseImages: { "Debian-12": { path: "/nonexistent.qcow2" } }, site: { locale: "{{ lookup('pipe','id') }}" } }, /config site\.locale: .* is not valid; it must be a locale/],
    ["a mirror URL with a space", { ...ok, site: { iso_server: "ftp://mirror example" } }, /config site\.iso_server: .* it must be an http\(s\):\/\/ or ftp:\/\/ URL/],
    ["a duration without unit", { ...ok, site: { ssh_timeout: "60" } }, /config site\.ssh_timeout: "60" is not valid; it must be a duration such as 60m/],
    ["site iso_checksum (the OS file's)", { ...ok, site: { iso_checksum: "sha256:" + "0".repeat(64) } }, /config site: unknown key: 'iso_checksum' is not valid; valid choices: namespace, headless/],
    ["site ssh_private_key_file (the program's)", { ...ok, site: { ssh_private_key_file: "/root/.ssh/id_rsa" } }, /config site: unknown key: 'ssh_private_key_file'/],
    ["site qemuargs", { ...ok, site: { qemuargs: [["-device", "x"]] } }, /config site: unknown key: 'qemuargs'/],
    ["site kickstart", { ...ok, site: { kickstart: "none" } }, /config site: unknown key: 'kickstart'/],
    ["site os_major", { ...ok, site: { os_major: 9 } }, /config site: unknown key: 'os_major'/],
    ["site artifacts_dir", { ...ok, site: { artifacts_dir: "/" } }, /config site: unknown key: 'artifacts_dir'/],
    ["docker user name with a newline", { ...ok, docker: { username: "ci\nRUN id" } }, /config docker\.username: "ci\\nRUN id" is not valid; it must be a registry user name/],
    ["catalog URL not a URL", { ...ok, virtualbox: { catalogUrl: "https://" } }, /config virtualbox\.catalogUrl: "https:\/\/" is not valid; it must be an http\(s\):\/\/ or file:\/\/ URL/],
    ["OpenStack properties overriding the publisher's", { ...ok, openstack: { properties: { hw_disk_bus: "ide" } } }, /config openstack\.properties: .* it must be an object of extra properties, without hw_disk_bus/],
    ["OpenStack tag with a space", { ...ok, openstack: { tags: ["a b"] } }, /config openstack\.tags: \["a b"\] is not valid; it must be a list of tags/],
    ["OpenStack metadata neither way", { ...ok, openstack: { metadata: "vendordata" } }, /config openstack\.metadata: 'vendordata' is not valid; valid choices: both, config-drive, metadata-service/],
    ["OpenStack img_config_drive among the extra properties", { ...ok, openstack: { properties: { img_config_drive: "optional" } } }, /config openstack\.properties: .* without .*img_config_drive.* \(the publisher sets those from the OS file, openstack\.metadata and openstack\.machineType\)/],
    ["OpenStack protected as a word", { ...ok, openstack: { protected: "yes" } }, /config openstack\.protected: "yes" is not valid; it must be true or false/],
    // --- What an OS's disk cannot boot (its OS file's firmware, secure_boot, kernel_drivers) --
    ["AWS UEFI boot for a BIOS-only OS", { ...awsPub, oses: ["CentOS-7.2.1511"], aws: { ...awsPub.aws, bootMode: "uefi" } }, /config aws\.bootMode: 'uefi' is not valid for CentOS-7\.2\.1511, whose disk boots with bios only \(firmware in its OS file\); valid choices: legacy-bios, or unset/],
    ["AWS uefi-preferred for a BIOS-only OS", { ...awsPub, oses: ["Rocky-9.8", "CentOS-7.2.1511"], aws: { ...awsPub.aws, bootMode: "uefi-preferred" } }, /config aws\.bootMode: 'uefi-preferred' is not valid for CentOS-7\.2\.1511, .*; valid choices: legacy-bios, or unset/],
    ["Azure Hyper-V generation 2 for a BIOS-only OS", { ...ok, providers: ["azure"], azure: { hyperVGeneration: "V2" } }, /config azure\.hyperVGeneration: 'V2' is not valid for CentOS-7\.3\.1611, whose disk boots with bios only \(firmware in its OS file\); valid choices: V1, or unset/],
    ["GCP UEFI_COMPATIBLE for a BIOS-only OS", { ...ok, gcp: { guestOsFeatures: ["UEFI_COMPATIBLE"] } }, /config gcp\.guestOsFeatures: 'UEFI_COMPATIBLE' is not valid for CentOS-7\.3\.1611, which lacks firmware uefi \(its OS file\); valid choices: any feature but UEFI_COMPATIBLE, GVNIC, IDPF, SEV_CAPABLE, SEV_SNP_CAPABLE$/],
    ["GCP GVNIC for a kernel without gve", { ...ok, gcp: { guestOsFeatures: ["MULTI_IP_SUBNET", "GVNIC"] } }, /config gcp\.guestOsFeatures: 'GVNIC' is not valid for CentOS-7\.3\.1611, which lacks the gve driver/],
    ["VMware EFI for a BIOS-only OS", { ...ok, providers: ["vmware"], vmware: { firmware: "efi" } }, /config vmware\.firmware: 'efi' is not valid for CentOS-7\.3\.1611, whose disk boots with bios only .*; valid choices: bios, or unset/],
    ["VMware Secure Boot for a BIOS-only OS", { ...ok, providers: ["vmware"], vmware: { secureBoot: true } }, /config vmware\.secureBoot: true is not valid for CentOS-7\.3\.1611 with vmware\.firmware bios \(Secure Boot is UEFI's\); valid choices: false/],
    ["VMware firmware not a choice", { ...ok, vmware: { firmware: "uefi" } }, /config vmware\.firmware: 'uefi' is not valid; valid choices: efi, bios$/],
    ["VirtualBox EFI for a BIOS-only OS", { ...ok, providers: ["virtualbox"], virtualbox: { firmware: "efi" } }, /config virtualbox\.firmware: 'efi' is not valid for CentOS-7\.3\.1611, .*; valid choices: bios, or unset/],
    ["OpenStack machine type", { ...ok, openstack: { machineType: "pc-i440fx" } }, /config openstack\.machineType: 'pc-i440fx' is not valid; valid choices: q35$/],
    ["OpenStack firmware among the extra properties", { ...ok, openstack: { properties: { hw_firmware_type: "uefi" } } }, /config openstack\.properties: .* without .*hw_firmware_type/],
    ["the account-wide vmimport role in a version stack", { ...awsPub, aws: { ...awsPub.aws, createRole: true } }, /config aws\.createRole: true is not valid; it must be false: the vmimport role is the account's/],
    ["an IAM role name with a slash", { ...awsPub, aws: { ...awsPub.aws, roleName: "a/b" } }, /config aws\.roleName: "a\/b" is not valid; it must be an IAM role name/],
    ["a provider's settings with an unknown key", { ...ok, vmware: { controller: "lsilogic" } }, /config vmware: unknown key: 'controller' is not valid; valid choices: firmware, secureBoot, builder, variantMode/],
    ["a builder that is not one", { ...ok, vmware: { builder: "packer" } }, /config vmware\.builder: 'packer' is not valid; valid choices: variant, iso/],
    ["an OpenStack property name with a space", { ...ok, openstack: { properties: { "a b": "c" } } }, /config openstack\.properties\.a b: "a b" is not valid; it must be an object of string values/],
];

installMocks("1.0.0", ok);

test(`${CASES.length} bad configurations: each refused with its message, nothing registered`, () => {
    assert.ok(CASES.length >= 60, `${CASES.length} cases`);
    // Every case is tried; the failures are listed together.
    const failures: string[] = [];
    for (const [what, config, message, stack] of CASES) {
        setConfig(config);
        try {
            preflight(loadConfig(new pulumi.Config(), stack ?? "1.0.0"));
            failures.push(`${what}: accepted`);
        } catch (e) {
            if (!message.test((e as Error).message)) failures.push(`${what}: ${(e as Error).message}`);
        }
    }
    assert.deepEqual(failures, []);
    assert.equal(registered.length, 0);
});

test("the good configuration these cases start from passes", () => {
    for (const config of [ok, { ...awsPub }]) {
        setConfig(config);
        preflight(loadConfig(new pulumi.Config(), "1.0.0"));
    }
});

test("the UEFI choices refused above for EL7 are accepted for an OS whose disk boots UEFI", () => {
    const rocky = { oses: ["Rocky-9.8"], providers: ["aws", "azure", "gcp", "vmware", "virtualbox"] };
    for (const config of [
        { ...rocky, aws: { bootMode: "uefi" } },
        { ...rocky, aws: { bootMode: "uefi-preferred" } },
        { ...rocky, azure: { hyperVGeneration: "V2" } },
        { ...rocky, gcp: { guestOsFeatures: ["UEFI_COMPATIBLE", "GVNIC", "SEV_CAPABLE"] } },
        { ...rocky, vmware: { firmware: "efi", secureBoot: true } },
        { ...rocky, virtualbox: { firmware: "efi" } },
    ]) {
        setConfig(config);
        preflight(loadConfig(new pulumi.Config(), "1.0.0"));
    }
});

test("the program itself stops before registering anything", () => {
    setConfig({ ...ok, providers: ["ec2"] });
    assert.throws(() => require("../../index"), /config providers: 'ec2' is not valid/);
    assert.equal(registered.length, 0);
});

test("a stack that sets nothing plans every stage: the default OSes need no site mirror", () => {
    setConfig({});
    const plans = preflight(loadConfig(new pulumi.Config(), "1.0.0"));
    assert.deepEqual(plans.map((p) => p.os.vm_name), ["Rocky-9.8"]);
    assert.ok(plans[0].images.length >= 7);
});
