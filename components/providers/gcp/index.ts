// Google Cloud Platform: disk.raw in an oldgnu tar.gz, uploaded to a bucket and imported as an image.
import { list, text } from "../../recipe/fields";
import { mirrorProblem } from "../../isolation/addresses";
import { imageTitle, publishInputs } from "../../publish/names";
import { BIOS, Settings, defineProvider } from "../provider";
import { uefiWithTpm } from "../firmware";
import { firstBoot } from "./first-boot";
import { GcpImage, gcpName } from "./image";
import { guestOsFeatures } from "./features";

const fields = {
    project: text(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "a GCP project id").optional(),
    bucket: text(/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/, "a GCS bucket name").optional(),
    family: text(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, "lowercase letters, digits and '-', at most 63").optional(),
    /** A mirror of Google's guest environment repository for EL (default: packages.cloud.google.com). */
    guestRepo: text(/^https?:\/\/[A-Za-z0-9.-]+(:\d+)?(\/[A-Za-z0-9._~%\/-]*)?$/, "an http(s):// URL of a yum repository", 1024)
        .refine((v) => !mirrorProblem(v), { error: (iss) => `an http(s):// URL of a yum repository; '${iss.input}' ${mirrorProblem(String(iss.input))}` })
        .optional(),
    /** Its signing key, when the mirror's differs. */
    guestRepoGpgKey: text(/^(https?|file):\/\/[A-Za-z0-9._~%\/:-]+$/, "an http(s):// or file:// URL of a GPG key", 1024).optional(),
    /** Features added to the ones each OS's file gives (./features.ts), e.g. SEV_CAPABLE. */
    guestOsFeatures: list(/^[A-Z_]+$/, "a list of feature names such as SEV_CAPABLE").default([]),
};

/** Config `gcp`, checked. */
export type GcpSettings = Settings<typeof fields>;

export default defineProvider({
    name: "gcp",
    title: "Google Cloud Platform",
    fields,
    requiredToPublish: ["project", "bucket"],
    // Google's repository and keys (ansible/roles/gcp/defaults), and a mirror the config names.
    buildMirrors: (s) => ["https://packages.cloud.google.com/", ...(s.guestRepo ? [s.guestRepo] : []), ...(s.guestRepoGpgKey?.startsWith("http") ? [s.guestRepoGpgKey] : [])],
    buildVars: (s) => ({ ...(s.guestRepo ? { guest_repo: s.guestRepo } : {}), ...(s.guestRepoGpgKey ? { guest_repo_gpgkey: s.guestRepoGpgKey } : {}) }),
    check: (s, ctx) => {
        for (const os of ctx.oses) {
            guestOsFeatures(s.guestOsFeatures, os);
            // Image names: at most 63 characters with the sha256 suffix whole.
            const name = gcpName(imageTitle(os.vm_name, ctx.version, "0".repeat(64)));
            if (name.length > 63) throw new Error(`config version: '${ctx.version}' is too long: the GCP image name ${name} has ${name.length} characters, at most 63`);
        }
    },
    isoBuilder: "qemu",
    format: "raw-tar",
    firstBoot,
    // A UEFI_COMPATIBLE image boots as a Shielded VM: UEFI, vTPM, Secure Boot where the OS's shim is signed.
    boot: (s, os) => (guestOsFeatures(s.guestOsFeatures, os).includes("UEFI_COMPATIBLE") ? uefiWithTpm(os) : BIOS),
    outputs: ["imageName", "selfLink", "project"],
    publish: (a) => {
        const img = new GcpImage(a.name, { ...publishInputs(a), os: a.os, settings: a.settings });
        return { imageName: img.imageName, selfLink: img.selfLink, project: a.settings.project };
    },
});
