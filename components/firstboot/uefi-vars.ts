// UEFI variables as a firmware's NVRAM holds them: read from an edk2 (OVMF) variable store, the
// file a first boot copies as its machine's NVRAM. A cloud that registers an image's Secure
// Boot keys with the image (EC2's uefiData) gets exactly the ones the first boot started with.
// Format: edk2's MdeModulePkg VariableFormat.h and AuthenticatedVariableFormat.h, as AWS's
// python-uefivars (pyuefivars/edk2.py, MIT) reads it.

/** One UEFI variable, as JSON carries it (a stage's result). */
export interface UefiVariable {
    readonly name: string;
    /** The vendor GUID, canonical (e.g. 8be4df61-93ca-11d2-aa0d-00e098032b8c). */
    readonly guid: string;
    /** EFI_VARIABLE_* attribute bits. */
    readonly attr: number;
    /** EFI_TIME of a time-based authenticated variable, hex (16 bytes); absent when all zero. */
    readonly timestamp?: string;
    /** The variable's data, base64. */
    readonly data: string;
}

export const EFI_GLOBAL_VARIABLE = "8be4df61-93ca-11d2-aa0d-00e098032b8c";
export const EFI_IMAGE_SECURITY_DATABASE = "d719b2cb-3d3a-4596-a3bc-dad00e67656f";

/** The variables that make Secure Boot: the platform key, the key exchange keys, the allowed and forbidden databases. */
export const SECURE_BOOT_VARIABLES = [
    { name: "PK", guid: EFI_GLOBAL_VARIABLE },
    { name: "KEK", guid: EFI_GLOBAL_VARIABLE },
    { name: "db", guid: EFI_IMAGE_SECURITY_DATABASE },
    { name: "dbx", guid: EFI_IMAGE_SECURITY_DATABASE },
] as const;

const NV_FVB_SYSTEM = "fff12b8d-7696-4c8b-a985-2747075b4f50";
const AUTHENTICATED_VARIABLE_STORE = "aaf32c78-947b-439a-a180-2e144ec37792";
const VAR_ADDED = 0x3f;
const START_ID = 0x55aa;

/** A GUID's 16 bytes (EFI_GUID: three little-endian fields, then eight bytes) as its canonical text. */
export function guidText(b: Buffer): string {
    const h = (x: Buffer) => x.toString("hex");
    const le = (x: Buffer) => h(Buffer.from(x).reverse());
    return `${le(b.subarray(0, 4))}-${le(b.subarray(4, 6))}-${le(b.subarray(6, 8))}-${h(b.subarray(8, 10))}-${h(b.subarray(10, 16))}`;
}

/** A canonical GUID's 16 bytes. */
export function guidBytes(g: string): Buffer {
    const m = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/.exec(g);
    if (!m) throw new Error(`'${g}' is no GUID`);
    const le = (x: string) => Buffer.from(x, "hex").reverse();
    return Buffer.concat([le(m[1]), le(m[2]), le(m[3]), Buffer.from(m[4] + m[5], "hex")]);
}

/** The variables of an edk2 variable store (firmware volume with an authenticated variable store), in store order. */
export function readVarStore(fd: Buffer, what = "the variable store"): UefiVariable[] {
    const bad = (why: string) => new Error(`${what}: not an edk2 variable store: ${why}`);
    if (fd.length < 0x48 || !fd.subarray(0, 16).equals(Buffer.alloc(16))) throw bad("no firmware volume header");
    if (guidText(fd.subarray(16, 32)) !== NV_FVB_SYSTEM) throw bad("the firmware volume is not an NVRAM one");
    if (fd.toString("latin1", 40, 44) !== "_FVH") throw bad("no _FVH signature");
    const headerLength = fd.readUInt16LE(48);
    let sum = 0;
    for (let i = 0; i < headerLength; i += 2) sum = (sum + fd.readUInt16LE(i)) & 0xffff;
    if (sum !== 0) throw bad("the firmware volume header's checksum does not add up");
    let at = headerLength;
    if (guidText(fd.subarray(at, at + 16)) !== AUTHENTICATED_VARIABLE_STORE) throw bad("its variables are not authenticated ones (edk2's 2-byte-aligned layout only)");
    const storeEnd = at + fd.readUInt32LE(at + 16);
    at += 28; // GUID, size, format, state, reserved
    const vars: UefiVariable[] = [];
    while (at + 60 <= storeEnd && fd.readUInt16LE(at) === START_ID) {
        const state = fd[at + 2];
        const attr = fd.readUInt32LE(at + 4);
        const timestamp = fd.subarray(at + 16, at + 32);
        const nameSize = fd.readUInt32LE(at + 36);
        const dataSize = fd.readUInt32LE(at + 40);
        const guid = guidText(fd.subarray(at + 44, at + 60));
        const nameAt = at + 60;
        const end = nameAt + nameSize + dataSize;
        if (end > storeEnd) throw bad(`a variable runs past the store's end at offset ${at}`);
        const name = fd.toString("utf16le", nameAt, nameAt + nameSize).replace(/\0+$/, "");
        if (state === VAR_ADDED) {
            vars.push({
                name,
                guid,
                attr,
                ...(timestamp.equals(Buffer.alloc(16)) ? {} : { timestamp: timestamp.toString("hex") }),
                data: fd.subarray(nameAt + nameSize, end).toString("base64"),
            });
        }
        at = (end + 3) & ~3;
    }
    return vars;
}

/**
 * The Secure Boot variables of a store, in SECURE_BOOT_VARIABLES' order. A store without a
 * platform key is in Setup Mode (Secure Boot off): refused, naming it.
 */
export function secureBootVariables(vars: readonly UefiVariable[], what = "the variable store"): UefiVariable[] {
    const found = SECURE_BOOT_VARIABLES.map((s) => vars.find((v) => v.name === s.name && v.guid === s.guid));
    const missing = SECURE_BOOT_VARIABLES.filter((_, i) => !found[i] || !Buffer.from(found[i]!.data, "base64").length).map((s) => s.name);
    if (missing.includes("PK") || missing.includes("db")) {
        throw new Error(`${what} has no ${missing.join(", ")}: no Secure Boot keys enrolled (a machine started from it is in Setup Mode, Secure Boot off)`);
    }
    return found.filter((v): v is UefiVariable => v !== undefined);
}
