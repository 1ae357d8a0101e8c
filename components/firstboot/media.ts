// Provisioning media: a directory made into an ISO 9660 image with a volume label, as clouds
// attach them (OpenStack's config drive, Azure's ovf-env.xml, vSphere's OVF environment).
import { exec } from "./exec";
import * as fs from "fs";
import * as path from "path";

/** Writes `files` (relative path → text) under `dir` and makes `iso` of it, labelled `label`. */
export async function makeIso(iso: string, label: string, files: Record<string, string>): Promise<string> {
    const dir = `${iso}.d`;
    for (const [rel, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.writeFileSync(path.join(dir, rel), text);
    }
    const r = await exec("genisoimage", ["-quiet", "-V", label, "-r", "-J", "-o", iso, dir]);
    if (r.code !== 0) throw new Error(`genisoimage: ${r.stderr}`);
    return iso;
}

/** XML text content: the five characters XML reserves, escaped. */
export function xml(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}
