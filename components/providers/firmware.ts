// A provider's config field whose choices are ways to boot (AMI boot mode, Hyper-V generation,
// OVF firmware): each needs the disk to boot with some firmware, which only the OS file knows.
// One rule for all of them, so a choice an OS of the stack cannot boot is refused the same way
// (key, value, OS, valid choices) before anything is registered, and an unset field gives each
// OS the same kind of default: the first choice its disk boots.
import { badChoice } from "../recipe/choices";
import { Firmware, OsVars, bootsWith } from "../recipe/os";
import type { BootMode } from "./provider";

export class FirmwareSetting<const V extends string> {
    /**
     * @param key the config key, e.g. "aws.bootMode"
     * @param needs each choice and the firmware the disk must boot with for it, in order of
     * preference: an OS's default is the first one its disk boots
     */
    constructor(
        readonly key: string,
        readonly needs: readonly (readonly [V, readonly Firmware[]])[],
    ) {}

    /** The choices, in order of preference (the field's zod `choice`). */
    get choices(): [V, ...V[]] {
        const [first, ...rest] = this.needs.map(([v]) => v);
        return [first, ...rest];
    }

    /**
     * The choice for one OS: the one set in config, or unset the first its disk boots. A set
     * choice the disk cannot boot is refused: the same message from a provider's `check`
     * (before any resource) and from its `boot`.
     */
    of(set: V | undefined, os: OsVars): V {
        const valid = this.needs.filter(([, firmware]) => firmware.every((f) => bootsWith(os, f))).map(([v]) => v);
        const firmware = `whose disk boots with ${os.firmware.join(" and ")} only (firmware in its OS file)`;
        if (set === undefined) {
            if (!valid.length) throw new Error(`config ${this.key}: no choice fits ${os.vm_name}, ${firmware}; choices: ${this.choices.join(", ")}`);
            return valid[0];
        }
        if (!valid.includes(set)) throw badChoice(`config ${this.key}`, set, [...valid, "or unset (each OS gets the first its disk boots)"], `is not valid for ${os.vm_name}, ${firmware}`);
        return set;
    }
}

/** A cloud's UEFI machine with a virtual TPM (NitroTPM, Trusted Launch, Shielded VM), under Secure Boot where the OS's shim is signed. */
export function uefiWithTpm(os: OsVars): BootMode {
    return { firmware: "uefi", secureBoot: os.secure_boot, tpm: true };
}
