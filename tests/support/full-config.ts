// The fullest stack config: every OS (Debian-12 from a disk image), every provider, publishing
// everywhere with every optional resource (role, copies, shares, gallery, registry). The URN
// fixture (tests/fixtures/urns.json) is what the program registers for it.
import { listOses } from "../../components/recipe/os";

export const FULL_STACK = "1.4.0";

export function fullConfig(providers: readonly string[]): Record<string, unknown> {
    return {
        oses: listOses(),
        providers,
        publish: true,
        site: { repo_server: "http://mirror.example.com/repos" },
        baseImages: { "Debian-12": { path: "/var/lib/images/debian-12.qcow2", checksum: `sha256:${"a".repeat(64)}` } },
        // (The fixture was written with aws.createRole: true; the role has left the version stacks.)
        aws: { region: "eu-west-1", bucket: "gold-images-import", copyRegions: ["us-east-1", "eu-west-1"], shareWithAccounts: ["123456789012"] },
        azure: { resourceGroup: "images", location: "westeurope", storageAccount: "goldimages", gallery: "gold" },
        gcp: { project: "gold-images-1", bucket: "gold-images-upload", family: "gold", guestOsFeatures: ["VIRTIO_SCSI_MULTIQUEUE"] },
        openstack: { visibility: "shared", properties: { hw_rng_model: "virtio" } },
        docker: { repository: "gold/base", registry: "registry.example.com:5000", username: "ci" },
        virtualbox: { catalogUrl: "https://boxes.example.com/" },
    };
}
