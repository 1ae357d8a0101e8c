// Every OS × every provider, publishing on, under mocks: the graph, the inputs that make the
// images boot, the timeouts and the outputs application stacks consume.
import * as pulumi from "@pulumi/pulumi";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import assert from "node:assert/strict";
import { test } from "node:test";
import { listOses, loadOs } from "../../components/recipe/os";
import { providerModule, providerNames } from "../../components/providers";
import { MOCK_SECURE_BOOT_KEYS, Registered, byType, installMocks, registered, settled, valueOf } from "../support/program";
import { uefiData } from "../../components/providers/aws/uefi-data";

// Every OS file: Debian-12 (a hybrid disk, Secure Boot) starts from a disk image.
const oses = listOses();
installMocks("1.4.0", {
    oses,
    providers: providerNames(),
    publish: true,
    site: { repo_server: "http://mirror.example.com/repos" },
    baseImages: { "Debian-12": { path: "/var/lib/images/debian-12.qcow2", checksum: `sha256:${"a".repeat(64)}` } },
    aws: { region: "eu-west-1", bucket: "gold-images-import", copyRegions: ["us-east-1", "eu-west-1"], shareWithAccounts: ["123456789012"] },
    azure: { resourceGroup: "images", location: "westeurope", storageAccount: "goldimages", gallery: "gold" },
    gcp: { project: "gold-images-1", bucket: "gold-images-upload", family: "gold", guestOsFeatures: ["VIRTIO_SCSI_MULTIQUEUE"] },
    openstack: { visibility: "shared", protected: true, tags: ["packer"], properties: { hw_rng_model: "virtio" } },
    docker: { repository: "gold/base", registry: "registry.example.com:5000", username: "ci" },
    virtualbox: { catalogUrl: "https://boxes.example.com/" },
    vmware: { variantMode: "boot" },
});
// eslint-disable-next-line @typescript-eslint/no-var-requires
const program = require("../../index");
const n = oses.length;

const one = (type: string, nameIncludes: string) => {
    const found = byType(type).filter((r) => r.name.includes(nameIncludes));
    assert.equal(found.length, 1, `one ${type} named *${nameIncludes}*`);
    return found[0];
};
const urnOf = (r: Registered) => r.urn;
const dependsOn = (r: Registered, on: Registered) =>
    r.dependencies.includes(urnOf(on)) || Object.values(r.propertyDependencies).some((d) => d.includes(urnOf(on)));

test("resource types and counts for every OS × seven providers", async () => {
    await valueOf(program.images);
    await settled();
    const expected: Record<string, number> = {
        "gold:stage:Base": n,
        "gold:stage:Variant": 7 * n,
        "gold:stage:Conversion": 7 * n,
        "gold:test:FirstBoot": 7 * n,
        "gold:publish:AwsImage": n,
        "gold:publish:AzureImage": n,
        "gold:publish:GcpImage": n,
        "gold:publish:OpenstackImage": n,
        "gold:publish:DockerImage": n,
        "gold:publish:VagrantBox": n,
        "gold:publish:VmwareOva": n,
        // No resource takes the artifact as a file: copies are commands keyed by its sha256.
        "aws:s3/bucketObjectv2:BucketObjectv2": 0,
        "aws:ebs/snapshotImport:SnapshotImport": n,
        "aws:ec2/ami:Ami": n,
        "aws:ec2/amiCopy:AmiCopy": n, // eu-west-1 is the home region: one copy
        "aws:ec2/amiLaunchPermission:AmiLaunchPermission": 2 * n,
        // The account's vmimport role is not a version's (examples/aws-vmimport-role).
        "aws:iam/role:Role": 0,
        "azure-native:compute:Image": n,
        // The version's own image definition per OS (none is shared with other version stacks).
        "azure-native:compute:GalleryImage": n,
        "azure-native:compute:GalleryImageVersion": n,
        "gcp:storage/bucketObject:BucketObject": 0,
        "gcp:compute/image:Image": n,
        "openstack:images/image:Image": 0,
        "docker:index/image:Image": 0,
        "docker:index/registryImage:RegistryImage": n,
    };
    for (const [type, count] of Object.entries(expected)) assert.equal(byType(type).length, count, type);
});

test("dependency chain: publish ← first-boot test ← conversion ← variant ← base", () => {
    const os = oses[0];
    const base = one("command:local:Command", `${os}-base-run`);
    const variant = one("command:local:Command", `${os}-gcp-run`);
    const convert = one("command:local:Command", `${os}-gcp-convert-run`);
    const tested = one("command:local:Command", `${os}-gcp-test-run`);
    const object = one("command:local:Command", `${os}-gcp-publish-tarball-copy`);
    const image = one("gcp:compute/image:Image", `${os}-gcp-publish`);
    assert.ok(dependsOn(variant, base), "variant boots the base disk");
    assert.ok(dependsOn(convert, variant), "conversion reads the variant");
    assert.ok(dependsOn(tested, convert), "the test boots the conversion's artifact");
    assert.ok(dependsOn(object, tested), "upload reads what the test passed");
    // Every publish resource that reads the artifact depends on the test of its own image.
    for (const p of providerNames()) {
        const test = one("command:local:Command", `${os}-${p}-test-run`);
        const publishers = registered.filter((r) => r.name.startsWith(`${os}-${p}-publish`) && !r.type.startsWith("gold:publish:"));
        assert.ok(publishers.length > 0, p);
        assert.ok(publishers.some((r) => dependsOn(r, test)), `${p}: its publish depends on its first-boot test`);
    }
    assert.ok(dependsOn(image, object), "image reads the upload");
    const parentOf = (r: Registered) => registered.find((x) => x.urn === r.parent)?.type;
    assert.equal(parentOf(base), "gold:stage:Base");
    assert.equal(parentOf(variant), "gold:stage:Variant");
    assert.equal(parentOf(image), "gold:publish:GcpImage");
});

test("variants: in a chroot by default (Packer's null source, the chroot tools checked first); a provider's variantMode boot boots its copy under QEMU", () => {
    const os = oses[0];
    for (const p of providerNames()) {
        const create = one("command:local:Command", `${os}-${p}-run`).inputs.create as string;
        const boot = p === "vmware";
        assert.ok(create.includes(boot ? " -only=qemu.variant " : " -only=null.variant "), `${p}: ${create}`);
        assert.equal(/--needs \S*\bchroot\b/.test(create), !boot, `${p}: the chroot's needs: ${create}`);
    }
});

test("AWS: hvm, gp3; uefi-preferred with NitroTPM for a hybrid disk, legacy BIOS for EL7; ENA and IMDSv2-only where the OS has them (not EL7.2/7.3); a long import; copies and shares", () => {
    for (const os of oses) {
        const ami = one("aws:ec2/ami:Ami", `${os}-aws`);
        const facts = loadOs(os);
        const el7 = facts.os_major === 7;
        assert.equal(ami.inputs.enaSupport, !el7, `${os}: ENA`);
        assert.equal(ami.inputs.imdsSupport, el7 ? undefined : "v2.0", `${os}: IMDS`);
        assert.equal(ami.inputs.virtualizationType, "hvm");
        assert.equal(ami.inputs.ebsBlockDevices[0].volumeType, "gp3");
        // EL7's disks are BIOS/MBR; every other OS file's disk boots both (aws.bootMode unset).
        assert.equal(ami.inputs.bootMode, el7 ? "legacy-bios" : "uefi-preferred", `${os}: boot mode`);
        assert.equal(ami.inputs.tpmSupport, el7 ? undefined : "v2.0", `${os}: NitroTPM`);
        assert.match(ami.inputs.name, new RegExp(`^${os}-1\\.4\\.0-[0-9a-f]{12}$`));
    }
    assert.equal(one("aws:ec2/ami:Ami", "Debian-12-aws").inputs.bootMode, "uefi-preferred");
    assert.equal(one("aws:ec2/ami:Ami", "Debian-12-aws").inputs.tpmSupport, "v2.0");
    assert.equal(one("aws:ec2/ami:Ami", "CentOS-7.2.1511-aws").inputs.bootMode, "legacy-bios");
    assert.ok(!("tpmSupport" in one("aws:ec2/ami:Ami", "CentOS-7.2.1511-aws").inputs), "no NitroTPM on a BIOS AMI");
    // Secure Boot on EC2: the AMI registers the keys its test's NVRAM started with, as the test reported them.
    assert.equal(one("aws:ec2/ami:Ami", "Debian-12-aws").inputs.uefiData, uefiData(MOCK_SECURE_BOOT_KEYS));
    assert.ok(!("uefiData" in one("aws:ec2/ami:Ami", "CentOS-7.2.1511-aws").inputs), "no keys on a BIOS AMI");
    const snapshot = one("aws:ebs/snapshotImport:SnapshotImport", oses[0]);
    assert.equal(snapshot.inputs.diskContainer.format, "VHD");
    assert.equal(snapshot.inputs.roleName, "vmimport");
    const hours = (t: string) => Number(/^(\d+)h$/.exec(t)?.[1] ?? 0);
    assert.ok(hours(snapshot.customTimeouts!.create) >= 3, `import create timeout ${snapshot.customTimeouts?.create}`);
    const copy = one("aws:ec2/amiCopy:AmiCopy", oses[0]);
    assert.equal(copy.inputs.region, "us-east-1");
    assert.equal(copy.inputs.sourceAmiRegion, "eu-west-1");
});

test("Azure: page blob copy from the store (only the non-zero ranges), then a generalized Linux image and a gallery version", async () => {
    const upload = one("command:local:Command", `${oses[0]}-azure-publish-page-blob`);
    const fp = one("command:local:Command", `${oses[0]}-azure-test-run`).inputs.triggers[0];
    assert.match(upload.inputs.create, new RegExp(`scripts/store\\.ts export --store artifacts/store --fingerprint ${fp} --to azblob://goldimages/images/${oses[0]}-1\\.4\\.0-[0-9a-f]{12}\\.vhd --page-blob yes$`));
    assert.match(upload.inputs.delete, new RegExp(`scripts/store\\.ts remove --url azblob://goldimages/images/${oses[0]}-1\\.4\\.0-[0-9a-f]{12}\\.vhd$`));
    // The account key is a secret (the map holding it is sent as one).
    const env = upload.inputs.environment;
    assert.equal(env["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270", "the environment is secret");
    assert.deepEqual(Object.keys(env.value).sort(), ["GOLD_TARGET_AZURE_STORAGE_ACCOUNT", "GOLD_TARGET_AZURE_STORAGE_KEY"]);
    const image = one("azure-native:compute:Image", oses[0]);
    assert.equal(image.inputs.storageProfile.osDisk.osType, "Linux");
    assert.equal(image.inputs.storageProfile.osDisk.osState, "Generalized");
    assert.match(image.inputs.storageProfile.osDisk.blobUri, /^https:\/\/.*\.vhd$/);
    const version = one("azure-native:compute:GalleryImageVersion", oses[0]);
    assert.equal(version.inputs.galleryImageVersionName, "1.4.0");
    // Made from the page blob itself (the managed image is optional).
    assert.deepEqual(version.inputs.storageProfile, { osDiskImage: { source: { uri: await valueOf(one("azure-native:compute:Image", oses[0]).inputs.storageProfile.osDisk.blobUri), storageAccountId: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/images/providers/Microsoft.Storage/storageAccounts/goldimages" } } });
    // A rebuilt image of the same version: Azure refuses a new source for a version, so the
    // old version is deleted first and made again.
    assert.equal(version.deleteBeforeReplace, true);
    assert.deepEqual(version.replaceOnChanges, ["storageProfile"]);
});

test("GCP: https storage source, valid names, family and guest OS features, long upload timeout", () => {
    const image = one("gcp:compute/image:Image", oses[0]);
    assert.match(image.inputs.rawDisk.source, /^https:\/\/storage\.googleapis\.com\/gold-images-upload\/.+\.tar\.gz$/);
    assert.match(image.inputs.name, /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
    assert.equal(image.inputs.family, "gold");
    // The name keeps its sha256 suffix whole; the version label is the version.
    assert.match(image.inputs.name, /-[0-9a-f]{12}$/);
    assert.deepEqual(image.inputs.labels, { "gold-os": oses[0].toLowerCase().replace(/\./g, "-"), "gold-version": "1-4-0" });
    const object = one("command:local:Command", `${oses[0]}-gcp-publish-tarball-copy`);
    assert.equal(object.customTimeouts?.create, "3h");
    assert.match(object.inputs.create, /scripts\/store\.ts export --store artifacts\/store --fingerprint [0-9a-f]{64} --to gs:\/\/gold-images-upload\/\S+\.tar\.gz$/);
});

test("Azure: each OS's version in its own image definition: Trusted Launch-supported generation 2 with NVMe declared for a hybrid disk, generation 1 for EL7", () => {
    const definition = (os: string) => one("azure-native:compute:GalleryImage", `${os}-azure`);
    const version = (os: string) => one("azure-native:compute:GalleryImageVersion", `${os}-azure`);
    const debian = definition("Debian-12").inputs;
    assert.equal(debian.hyperVGeneration, "V2");
    assert.deepEqual(debian.features, [
        { name: "SecurityType", value: "TrustedLaunchSupported" },
        { name: "DiskControllerTypes", value: "SCSI, NVMe" },
        { name: "IsAcceleratedNetworkSupported", value: "True" },
    ]);
    const el7 = definition("CentOS-7.2.1511").inputs;
    assert.equal(el7.hyperVGeneration, "V1");
    assert.deepEqual(el7.features, []);
    for (const os of oses) {
        const gen = loadOs(os).os_major === 7 ? "V1" : "V2";
        const d = definition(os);
        // Never the OS id alone (a definition users made by hand): the version's own, per generation.
        assert.equal(d.inputs.galleryImageName, `${os}-1.4.0-gen${gen.slice(1)}`, os);
        assert.deepEqual(d.inputs.identifier, { publisher: "gold", offer: os, sku: `1.4.0-gen${gen.slice(1)}` }, os);
        assert.equal(d.inputs.osType, "Linux");
        assert.equal(d.inputs.osState, "Generalized");
        assert.equal(d.inputs.galleryName, "gold");
        // The version goes into it, after it.
        assert.equal(version(os).inputs.galleryImageName, d.inputs.galleryImageName, os);
        assert.ok(version(os).dependencies.includes(d.urn), `${os}: the version waits for its definition`);
        const image = one("azure-native:compute:Image", `${os}-azure`).inputs;
        assert.equal(image.hyperVGeneration, gen, `${os}: managed image`);
        // A generation 2 image's name says so (a generation cannot change; a new name is made before the old goes).
        assert.match(image.imageName, gen === "V2" ? /-1\.4\.0-[0-9a-f]{12}-gen2$/ : /-1\.4\.0-[0-9a-f]{12}$/, os);
    }
});

test("GCP: the guest OS features each OS file gives (UEFI_COMPATIBLE, GVNIC, IDPF), with the config's", () => {
    const features = (os: string) => (one("gcp:compute/image:Image", `${os}-gcp`).inputs.guestOsFeatures as { type: string }[]).map((f) => f.type);
    assert.deepEqual(features("Debian-12"), ["UEFI_COMPATIBLE", "VIRTIO_SCSI_MULTIQUEUE", "GVNIC"]);
    assert.deepEqual(features("CentOS-7.2.1511"), ["VIRTIO_SCSI_MULTIQUEUE"]);
    assert.deepEqual(features("Rocky-9.8"), ["UEFI_COMPATIBLE", "VIRTIO_SCSI_MULTIQUEUE", "GVNIC", "IDPF"]);
});

test("VMware: the OVF declares EFI (and Secure Boot) for a hybrid disk, BIOS for EL7; the box says nothing (BIOS)", () => {
    const create = (os: string, p: string) => one("command:local:Command", `${os}-${p}-convert-run`).inputs.create as string;
    assert.ok(create("Debian-12", "vmware").includes(" --firmware efi --secure-boot true"), create("Debian-12", "vmware"));
    assert.ok(create("CentOS-7.2.1511", "vmware").includes(" --firmware bios --secure-boot false"), create("CentOS-7.2.1511", "vmware"));
    for (const os of oses) assert.ok(!create(os, "virtualbox").includes("--firmware"), `${os}: box`);
});

test("OpenStack: qcow2 with the recommended properties from the store, a new image when its content or request changes", () => {
    const requestOf = (os: string) => {
        const glance = one("command:local:Command", `${os}-openstack-publish-glance`);
        const words = /--request '(.*)'$/.exec(glance.inputs.create);
        assert.ok(words, glance.inputs.create);
        return { glance, request: JSON.parse(words![1].replace(/'\\''/g, "'")) };
    };
    const { glance, request } = requestOf(oses[0]);
    const fp = one("command:local:Command", `${oses[0]}-openstack-test-run`).inputs.triggers[0];
    assert.ok(glance.inputs.create.includes(`components/providers/openstack/glance-image.ts create --store artifacts/store --fingerprint ${fp} --request `));
    assert.match(glance.inputs.delete, /glance-image\.ts delete --created "\$PULUMI_COMMAND_STDOUT"$/);
    assert.equal(request.diskFormat, "qcow2");
    assert.equal(request.containerFormat, "bare");
    assert.equal(request.visibility, "shared");
    for (const key of ["hw_disk_bus", "hw_vif_model", "os_distro", "os_version"]) assert.ok(request.properties[key], key);
    // openstack.metadata "both" (the default): the cloud may attach a config drive or not; the test boots both ways.
    assert.equal(request.properties.img_config_drive, "optional");
    assert.ok(one("command:local:Command", `${oses[0]}-openstack-test-run`).inputs.create.includes(" --ways config-drive,metadata-service"), "the test boots both ways");
    // and the role lets cloud-init look both ways.
    assert.ok(one("command:local:Command", `${oses[0]}-openstack-run`).inputs.create.includes('"openstack_metadata":"both"'), "the role is told");
    assert.equal(request.properties.hw_rng_model, "virtio");
    assert.equal(request.protected, true);
    assert.deepEqual(request.tags, ["gold", "1.4.0", "packer"]);
    // The OS facts come from each OS file.
    for (const os of oses) {
        const props = requestOf(os).request.properties;
        assert.equal(props.os_distro, loadOs(os).os_distro, os);
        assert.equal(props.os_version, loadOs(os).os_version, os);
        // A disk of one firmware says so; a hybrid disk leaves it to the cloud.
        assert.equal(props.hw_firmware_type, loadOs(os).os_major === 7 ? "bios" : undefined, os);
    }
    assert.match(request.name, /-[0-9a-f]{12}$/);
    // Any change of content or request is a new image (os_* properties are taken only at create).
    assert.equal(glance.inputs.triggers.length, 2);
    assert.equal(glance.inputs.triggers[1], /--request '(.*)'$/.exec(glance.inputs.create)![1].replace(/'\\''/g, "'"));
});

test("Docker: the image its test built and ran, loaded from the test's archive in the store, pushed to the registry", () => {
    const image = one("command:local:Command", `${oses[0]}-docker-publish-image`);
    const test = one("command:local:Command", `${oses[0]}-docker-test-run`).inputs.triggers[0];
    const [fetch, ...rest] = image.inputs.create.split(" && ");
    assert.ok(fetch.includes(`scripts/store.ts fetch --store artifacts/store --fingerprint ${test} --to artifacts/1.4.0/${oses[0]}/docker/context-`), fetch);
    // Not built again: the tested image's layers, under this version's label (a Dockerfile of one FROM, no context).
    const builds = image.inputs.create.split(" && ").filter((c: string) => c.includes("docker build"));
    assert.equal(builds.length, 1);
    assert.match(builds[0], /^printf .* \| docker build -q --build-arg GOLD_TESTED="\$tested" .* -t \S+ - >&2$/, "no build from the conversion's context");
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "gold-docker-"));
    // A docker that records its arguments (and the Dockerfile a build reads from stdin).
    fs.writeFileSync(path.join(bin, "docker"), `#!/bin/sh\necho "$*" >> ${bin}/calls\ncase "$1" in build) cat > ${bin}/dockerfile ;; esac\n`, { mode: 0o755 });
    // The rest of the create, on a fetched test stage: its report names the tested image's tag.
    const dir = /--to (\S+)/.exec(fetch)![1];
    const loadRest = (report: unknown) => {
        fs.rmSync(path.join(bin, "calls"), { force: true });
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "result.json"), JSON.stringify(report));
        return spawnSync("bash", ["-c", rest.join(" && ")], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: "utf8" });
    };
    const loaded = loadRest({ ok: true, image: { id: "a".repeat(64), ref: "localhost/gold-tested:aaaaaaaaaaaa" } });
    assert.equal(loaded.status, 0, loaded.stderr);
    const calls = fs.readFileSync(path.join(bin, "calls"), "utf8").trim().split("\n");
    assert.equal(calls[0], `load -q -i ${dir}/image.tar.gz`);
    assert.match(calls[1], /^build -q --build-arg GOLD_TESTED=localhost\/gold-tested:aaaaaaaaaaaa --label org\.opencontainers\.image\.version=1\.4\.0 -t registry\.example\.com:5000\/gold\/base:[a-z0-9_.-]+ -$/);
    assert.equal(fs.readFileSync(path.join(bin, "dockerfile"), "utf8"), "ARG GOLD_TESTED\nFROM $GOLD_TESTED\n", "the Dockerfile adds nothing to the tested image");
    assert.equal(calls[2], "image rm localhost/gold-tested:aaaaaaaaaaaa");
    assert.match(calls[3], /^image inspect --format /);
    assert.ok(!fs.existsSync(dir), "the fetched stage removed");
    // The control: a report that names no tested image (or something else) loads nothing.
    const refused = loadRest({ ok: true, image: { ref: "evil; rm -rf /" } });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /the test report names no tested image/);
    assert.ok(!fs.existsSync(path.join(bin, "calls")), "no docker call");
    fs.rmSync(dir, { recursive: true, force: true });
    // The delete removes the image by the id its create printed (a replacement has moved the tag).
    fs.rmSync(path.join(bin, "calls"), { force: true });
    const del = spawnSync("bash", ["-c", image.inputs.delete], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, PULUMI_COMMAND_STDOUT: JSON.stringify({ imageName: "x", id: "sha256:0123abcd" }) }, encoding: "utf8" });
    assert.equal(del.status, 0, del.stderr);
    assert.deepEqual(fs.readFileSync(path.join(bin, "calls"), "utf8").trim().split("\n"), ["image inspect sha256:0123abcd", "image rm sha256:0123abcd"]);
    fs.rmSync(bin, { recursive: true, force: true });
    // Pushed by a RegistryImage, whose delete removes the tag from the registry.
    const pushed = one("docker:index/registryImage:RegistryImage", oses[0]);
    assert.equal(pushed.inputs.keepRemotely, false);
    assert.match(pushed.inputs.name, /^registry\.example\.com:5000\/gold\/base:[a-z0-9_.-]+$/);
    assert.equal(pushed.inputs.authConfig.address, "registry.example.com:5000");
});

test("Vagrant: the box at the seed's path and a catalog entry per version", () => {
    const entry = one("command:local:Command", `${oses[0]}-virtualbox-publish-catalog`);
    // The box's URL: the catalog URL + its place under artifacts/, whatever the checkout's path.
    assert.match(
        entry.inputs.create,
        new RegExp(`add --catalog artifacts/${oses[0]}\\.json --name gold/${oses[0]} --version 1\\.4\\.0 --provider virtualbox --url https://boxes\\.example\\.com/1\\.4\\.0/${oses[0]}/virtualbox/${oses[0]}-1\\.4\\.0_virtualbox\\.box `),
    );
    assert.match(entry.inputs.delete, /remove --catalog .* --version 1\.4\.0 --provider virtualbox --sha256 [0-9a-f]{64}$/);
    const box = one("command:local:Command", `${oses[0]}-virtualbox-publish-box`);
    assert.match(box.inputs.create, new RegExp(`scripts/store\\.ts place --store artifacts/store --fingerprint [0-9a-f]{64} --to artifacts/1\\.4\\.0/${oses[0]}/virtualbox/${oses[0]}-1\\.4\\.0_virtualbox\\.box$`));
});

test("outputs: version and images[os][provider] with the artifact and each cloud's ids", async () => {
    assert.equal(await valueOf(program.version), "1.4.0");
    const images = await valueOf<Record<string, Record<string, Record<string, unknown>>>>(program.images);
    assert.deepEqual(Object.keys(images).sort(), [...oses].sort());
    for (const os of oses) {
        // Exactly what each provider's module declares (with every option set, all of them).
        for (const provider of providerNames()) {
            const fields = images[os][provider];
            const machine = providerModule(provider).firstBoot.kind === "vm" ? ["boot"] : [];
            assert.deepEqual(Object.keys(fields).sort(), ["artifact", ...machine, "firstBoot", "sha256", ...providerModule(provider).outputs].sort(), `${os}.${provider}`);
            for (const [key, value] of Object.entries(fields)) assert.ok(value !== undefined && value !== "", `${os}.${provider}.${key}`);
        }
        assert.deepEqual(Object.keys(images[os].aws.amiIds as object).sort(), ["eu-west-1", "us-east-1"]);
    }
    // What the AMI is registered with is what its test booted: UEFI with Secure Boot and NitroTPM, EL7's BIOS.
    assert.equal(images["Debian-12"].aws.boot, "uefi+secure-boot+tpm");
    assert.equal(images["Debian-12"].gcp.boot, "uefi+secure-boot+tpm");
    assert.equal(images["CentOS-7.2.1511"].aws.boot, "bios");
});

test("no secret reaches the outputs", async () => {
    const text = JSON.stringify(await valueOf(program.images));
    assert.ok(!text.includes("not-a-real-key"));
});

test("the OVA and the box carry each OS's own guest types, from its OS file", () => {
    for (const os of oses) {
        const facts = loadOs(os);
        for (const p of ["vmware", "virtualbox"]) {
            const convert = one("command:local:Command", `${os}-${p}-convert-run`);
            assert.ok(convert.inputs.create.includes(`--guest-os-vsphere ${facts.guest_os_type_vsphere}`), `${os} ${p}`);
            assert.ok(convert.inputs.create.includes(`--guest-os-virtualbox ${facts.guest_os_type_virtualbox}`), `${os} ${p}`);
        }
    }
});

test("no cloud resource takes a file: no asset, archive or local path among the inputs of any registered resource", () => {
    const local = (v: unknown, at: string): string[] => {
        if (v instanceof pulumi.asset.Asset || v instanceof pulumi.asset.Archive) return [at];
        // A device name (/dev/xvda) is the guest's and an Azure resource id (/subscriptions/…)
        // the cloud's, not files of this machine.
        if (typeof v === "string") return /^(\/(?!dev\/|subscriptions\/)|\.\.?\/|file:)|(^|\/)artifacts\/|\/blobs\//.test(v) ? [at] : [];
        if (Array.isArray(v)) return v.flatMap((x, i) => local(x, `${at}[${i}]`));
        if (v && typeof v === "object") {
            // The SDK's wire form of an asset or archive.
            const sig = (v as Record<string, unknown>)["4dabf18193072939515e22adb298388d"];
            if (sig === "c44067f5952c0a294b673a41bacd8c17" || sig === "0def7320c3a5731c473e5ecbe6d01bc7") return [at];
            return Object.entries(v).flatMap(([k, x]) => local(x, `${at}.${k}`));
        }
        return [];
    };
    const clouds = registered.filter((r) => !r.type.startsWith("gold:") && r.type !== "command:local:Command" && !r.type.startsWith("pulumi:"));
    assert.ok(clouds.length > 0);
    assert.deepEqual(clouds.flatMap((r) => local(r.inputs, r.name)), []);
});
