/**
 * The providers (the seed's "builds"). Adding one is this entry, an Ansible role of the same
 * name under ansible/roles/, a kickstart override in http/builds/virtual/ if it needs one,
 * and a source entry in templates/build-iso.pkr.hcl for the seed's ISO-per-provider way.
 */
export interface ProviderInfo {
    /** What the target is called in messages and docs. */
    readonly title: string;
    /** The Packer builder the seed used for a full ISO build of this provider. */
    readonly isoBuilder: "qemu" | "virtualbox-iso" | "vmware-iso";
}

export const PROVIDERS = {
    aws: { title: "Amazon Web Services", isoBuilder: "virtualbox-iso" },
    azure: { title: "Microsoft Azure", isoBuilder: "qemu" },
    docker: { title: "Docker", isoBuilder: "qemu" },
    gcp: { title: "Google Cloud Platform", isoBuilder: "qemu" },
    openstack: { title: "OpenStack", isoBuilder: "qemu" },
    virtualbox: { title: "VirtualBox (Vagrant box)", isoBuilder: "virtualbox-iso" },
    vmware: { title: "VMware", isoBuilder: "vmware-iso" },
} as const satisfies Record<string, ProviderInfo>;

export type ProviderName = keyof typeof PROVIDERS;

export const PROVIDER_NAMES = Object.keys(PROVIDERS).sort() as ProviderName[];

export function isProvider(name: string): name is ProviderName {
    return Object.prototype.hasOwnProperty.call(PROVIDERS, name);
}
