// An AMI's UEFI variable store (RegisterImage's UefiData): what an instance's NVRAM holds at
// its first start. EC2 enforces Secure Boot only when it holds the keys (PK, KEK, db, dbx);
// without them an instance starts in Setup Mode, Secure Boot off. Format: AWS's
// python-uefivars (pyuefivars/aws.py, MIT): base64 of "AMZNUEFI", CRC32C, version 0, then a
// zlib stream (preset dictionary: pyuefivars/aws_v0.py) of the variables.
import { SECURE_BOOT_VARIABLES, guidBytes, type UefiVariable } from "../../firstboot/uefi-vars";

const MAGIC = Buffer.from("AMZNUEFI", "latin1");
/** Adler-32 of the format's preset dictionary (pyuefivars/aws_v0.py), the zlib stream's DICTID. */
export const AWS_V0_DICTID = 0x6bb7d9f7;
const TIME_BASED_AUTHENTICATED_WRITE_ACCESS = 0x20;
/** RegisterImage's limit on UefiData. */
export const UEFI_DATA_MAX = 64000;

/** CRC-32C (Castagnoli, reflected 0x82F63B78): the format's checksum. */
export function crc32c(b: Buffer): number {
    let crc = ~0;
    for (const byte of b) {
        crc ^= byte;
        for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
    }
    return ~crc >>> 0;
}

function adler32(b: Buffer): number {
    let a = 1;
    let s = 0;
    for (const byte of b) {
        a = (a + byte) % 65521;
        s = (s + a) % 65521;
    }
    return ((s << 16) | a) >>> 0;
}

const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
};
const u64 = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    return b;
};
const sized = (b: Buffer) => Buffer.concat([u64(b.length), b]);

/**
 * A zlib stream of stored (uncompressed) blocks that names the preset dictionary. Stored blocks
 * make the bytes a function of the variables alone: the same AMI input from any machine's zlib.
 */
function zlibStored(data: Buffer, dictid: number): Buffer {
    const cmf = 0x78; // deflate, 32 KiB window
    let flg = 0x20; // FDICT
    flg += 31 - ((cmf * 256 + flg) % 31);
    const head = Buffer.from([cmf, flg, dictid >>> 24, (dictid >>> 16) & 0xff, (dictid >>> 8) & 0xff, dictid & 0xff]);
    const blocks: Buffer[] = [];
    for (let at = 0; at === 0 || at < data.length; at += 0xffff) {
        const chunk = data.subarray(at, at + 0xffff);
        const last = at + 0xffff >= data.length;
        const h = Buffer.alloc(5);
        h[0] = last ? 1 : 0;
        h.writeUInt16LE(chunk.length, 1);
        h.writeUInt16LE(~chunk.length & 0xffff, 3);
        blocks.push(h, chunk);
    }
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(adler32(data));
    return Buffer.concat([head, ...blocks, tail]);
}

/** UefiData holding these variables (base64), as EC2 reads it: the Secure Boot ones only (PK, KEK, db, dbx). */
export function uefiData(vars: readonly UefiVariable[]): string {
    // They come from a stage's stored result: nothing else (a boot order, a vendor's variable) reaches an AMI.
    for (const v of vars) {
        if (!SECURE_BOOT_VARIABLES.some((s) => s.name === v.name && s.guid === v.guid)) {
            throw new Error(`UEFI variable ${JSON.stringify(v.name)} (${v.guid}) is not one an AMI registers; only ${SECURE_BOOT_VARIABLES.map((s) => s.name).join(", ")}`);
        }
    }
    const raw = Buffer.concat([
        u64(vars.length),
        ...vars.flatMap((v) => {
            const fields = [sized(Buffer.from(v.name, "utf8")), sized(Buffer.from(v.data, "base64")), guidBytes(v.guid), u32(v.attr)];
            // An authenticated variable's timestamp and its certificate digest (none: PK, KEK,
            // db and dbx are checked against the keys above them, not a digest).
            if (v.attr & TIME_BASED_AUTHENTICATED_WRITE_ACCESS) fields.push(Buffer.from(v.timestamp ?? "", "hex").length === 16 ? Buffer.from(v.timestamp!, "hex") : Buffer.alloc(16), sized(Buffer.alloc(32)));
            return fields;
        }),
    ]);
    const body = Buffer.concat([u32(0), zlibStored(raw, AWS_V0_DICTID)]);
    const out = Buffer.concat([MAGIC, u32(crc32c(body)), body]).toString("base64");
    if (out.length > UEFI_DATA_MAX) throw new Error(`the UEFI variables make ${out.length} characters of UefiData; EC2 takes at most ${UEFI_DATA_MAX}`);
    return out;
}
