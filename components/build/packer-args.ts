import * as fs from "fs";
import { HclValue } from "../recipe/hcl";
import { osFile } from "../recipe/os";
import { recipePaths, repoRoot } from "../recipe/paths";

/** HCL text of a value for `-var name=value` (Packer parses non-strings as HCL). */
function hcl(value: HclValue): string {
    if (typeof value === "string") return value;
    return JSON.stringify(value);
}

/** The variable files and -var options every Packer stage of one OS shares. */
export function packerVarArgs(osId: string, version: string, siteOverrides: Record<string, HclValue>): string[] {
    const site = recipePaths().siteFile;
    return [
        ...(fs.existsSync(site) ? [`-var-file=${site}`] : []),
        `-var-file=${osFile(osId, repoRoot)}`,
        `-var=version=${version}`,
        ...Object.entries(siteOverrides)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, v]) => `-var=${k}=${hcl(v)}`),
    ];
}
