import * as pulumi from "@pulumi/pulumi";
import { GoldConfig } from "../config";
import { Conversion } from "../build/conversion";
import { OsVars } from "../recipe/os";
import { ProviderName } from "../recipe/providers";
import { AwsImage } from "./aws-image";
import { AzureImage } from "./azure-image";
import { DockerImage } from "./docker-image";
import { GcpImage } from "./gcp-image";
import { OpenstackImage } from "./openstack-image";
import { VagrantBox } from "./vagrant-box";
import { VmwareOva } from "./vmware-ova";

/** The ids a provider's publisher hands to consumers (stack output images[os][provider]). */
export type PublishedIds = Record<string, pulumi.Input<unknown>>;

export interface PublishContext {
    readonly config: GoldConfig;
    readonly os: OsVars;
    readonly provider: ProviderName;
    readonly conversion: Conversion;
    /** <vm_name>-<version>_<provider>: the seed's artifact name. */
    readonly artifactName: string;
    readonly dockerPassword?: pulumi.Input<string>;
}

/** One publisher per target; the only place that knows which component serves which provider. */
export function publish(name: string, ctx: PublishContext): PublishedIds {
    const { config, os, provider, conversion } = ctx;
    const common = { vmName: os.vm_name, version: config.version, artifact: conversion.artifact, sha256: conversion.sha256 };
    const seedPath = (ext: string) => `artifacts/${config.version}/${os.vm_name}/${provider}/${ctx.artifactName}.${ext}`;
    const s = config.settings;
    switch (provider) {
        case "aws": {
            const img = new AwsImage(name, { ...common, settings: s.aws });
            return { amiId: img.amiId, amiIds: img.amiIds, region: s.aws.region };
        }
        case "azure": {
            const img = new AzureImage(name, { ...common, settings: s.azure });
            return { imageId: img.imageId, blobUrl: img.blobUrl, ...(img.galleryImageVersionId ? { galleryImageVersionId: img.galleryImageVersionId } : {}) };
        }
        case "gcp": {
            const img = new GcpImage(name, { ...common, settings: s.gcp });
            return { imageName: img.imageName, selfLink: img.selfLink, project: s.gcp.project };
        }
        case "openstack":
            return { imageId: new OpenstackImage(name, { ...common, os, settings: s.openstack }).imageId };
        case "docker": {
            const context = conversion.result.apply((r) => String(r.context));
            const img = new DockerImage(name, { ...common, context, settings: s.docker, password: ctx.dockerPassword });
            return { imageName: img.imageName, ...(img.repoDigest ? { repoDigest: img.repoDigest } : {}) };
        }
        case "virtualbox": {
            const box = new VagrantBox(name, {
                ...common,
                target: seedPath("box"),
                catalog: `artifacts/${os.vm_name}.json`,
                boxName: s.virtualbox.boxName ?? `${config.site.namespace}/${os.vm_name}`,
                catalogUrl: s.virtualbox.catalogUrl,
            });
            return { boxPath: box.boxPath, catalogPath: box.catalogPath };
        }
        case "vmware":
            return { ovaPath: new VmwareOva(name, { ...common, target: seedPath("ova") }).ovaPath };
    }
}
