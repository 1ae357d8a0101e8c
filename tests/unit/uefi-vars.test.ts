// UEFI variable stores: the edk2 (OVMF) reader and EC2's UefiData writer, each checked against
// AWS's own tool's output (tests/fixtures/uefivars), then on the NVRAM a Secure Boot first boot
// starts with, with controls that must fail (a store without keys, a changed byte, another dictionary).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { test } from "node:test";
import { guidBytes, guidText, readVarStore, secureBootVariables, type UefiVariable } from "../../components/firstboot/uefi-vars";
import { OVMF } from "../../components/firstboot/vm";
import { AWS_V0_DICTID, crc32c, uefiData } from "../../components/providers/aws/uefi-data";

const fixtures = path.join(__dirname, "..", "fixtures", "uefivars");
const dictionary = fs.readFileSync(path.join(fixtures, "aws-v0.dict"));

/** The variables as AWS's tool lists them (its JSON: data and timestamp in hex). */
function toolsJson(): UefiVariable[] {
    const j = JSON.parse(fs.readFileSync(path.join(fixtures, "t02.json"), "utf8")) as { variables: { name: string; guid: string; attr: number; data: string; timestamp?: string }[] };
    return j.variables.map((v) => ({ name: v.name, guid: v.guid, attr: v.attr, ...(v.timestamp ? { timestamp: v.timestamp } : {}), data: Buffer.from(v.data, "hex").toString("base64") }));
}

/** EC2's reading of UefiData (pyuefivars/aws.py's parser, here as the test's own). */
function readUefiData(b64: string): UefiVariable[] {
    const f = Buffer.from(b64, "base64");
    assert.equal(f.toString("latin1", 0, 8), "AMZNUEFI", "magic");
    assert.equal(f.readUInt32LE(8), crc32c(f.subarray(12)), "CRC32C of version and data");
    assert.equal(f.readUInt32LE(12), 0, "version 0");
    const raw = zlib.inflateSync(f.subarray(16), { dictionary });
    let at = 8;
    const take = (n: number) => raw.subarray((at += n) - n, at);
    const sized = () => take(Number(take(8).readBigUInt64LE()));
    return Array.from({ length: Number(raw.readBigUInt64LE(0)) }, () => {
        const name = sized().toString("utf8");
        const data = sized().toString("base64");
        const guid = guidText(take(16));
        const attr = take(4).readUInt32LE();
        let timestamp: string | undefined;
        if (attr & 0x20) {
            const t = take(16);
            timestamp = t.equals(Buffer.alloc(16)) ? undefined : t.toString("hex");
            assert.ok(sized().equals(Buffer.alloc(32)), `${name}: no certificate digest`);
        }
        return { name, guid, attr, ...(timestamp ? { timestamp } : {}), data };
    });
}

test("GUIDs: EFI's mixed-endian bytes to text and back", () => {
    const g = "8be4df61-93ca-11d2-aa0d-00e098032b8c";
    assert.equal(guidBytes(g).toString("hex"), "61dfe48bca93d211aa0d00e098032b8c");
    assert.equal(guidText(guidBytes(g)), g);
    assert.throws(() => guidBytes("8be4df61"), /'8be4df61' is no GUID/);
});

test("the edk2 reader reads AWS's test store as AWS's tool does; a changed header is refused", () => {
    const store = zlib.gunzipSync(fs.readFileSync(path.join(fixtures, "t02.edk2.gz")));
    const sort = (vs: UefiVariable[]) => [...vs].sort((a, b) => `${a.guid}${a.name}`.localeCompare(`${b.guid}${b.name}`));
    // The tool folds edk2's own certdb (digests of private authenticated variables) into them; none here has one.
    assert.deepEqual(sort(readVarStore(store).filter((v) => v.name !== "certdb")), sort(toolsJson()));
    const broken = Buffer.from(store);
    broken[40] ^= 0xff;
    assert.throws(() => readVarStore(broken, "t02"), /t02: not an edk2 variable store: no _FVH signature/);
    const sum = Buffer.from(store);
    sum[60] ^= 1;
    assert.throws(() => readVarStore(sum), /checksum does not add up/);
});

test("UefiData: AWS's tool's own blob reads as its variables (the reader is right), and ours reads back the same", () => {
    assert.equal(crc32c(Buffer.from("123456789")), 0xe3069283, "CRC-32C's check value");
    const all = toolsJson();
    assert.deepEqual(readUefiData(fs.readFileSync(path.join(fixtures, "t02.aws"), "latin1").trim()), all);
    // Only the Secure Boot variables reach an AMI: the control, a boot order among them, is refused.
    assert.throws(() => uefiData(all), /UEFI variable "MemoryTypeInformation" .* is not one an AMI registers; only PK, KEK, db, dbx/);
    const expected = all.filter((v) => ["PK", "KEK", "db", "dbx"].includes(v.name));
    assert.equal(expected.length, 4);
    assert.deepEqual(readUefiData(uefiData(expected)), expected);
    // Stored blocks, no zlib version's choices: the bytes are a function of the variables alone
    // (after the 16-byte header and zlib's 6 — CMF, FLG with FDICT, DICTID — a final stored block).
    const blob = Buffer.from(uefiData(expected), "base64");
    assert.equal(blob[16 + 6], 0x01, "BFINAL, BTYPE 00 (stored)");
    assert.equal(blob.readUInt16LE(16 + 7), blob.length - (16 + 6 + 5 + 4), "the block holds every byte, uncompressed");
});

test("UefiData's controls: a changed byte fails its CRC32C, another preset dictionary fails zlib's check", () => {
    const good = Buffer.from(uefiData(toolsJson().filter((v) => ["PK", "KEK", "db", "dbx"].includes(v.name))), "base64");
    const changed = Buffer.from(good);
    changed[good.length - 100] ^= 1;
    assert.throws(() => readUefiData(changed.toString("base64")), /CRC32C/);
    const other = Buffer.from(good);
    // The DICTID field names the dictionary: zlib refuses a stream whose dictionary is not that one.
    assert.equal(other.readUInt32BE(18), AWS_V0_DICTID);
    assert.throws(() => zlib.inflateSync(other.subarray(16), { dictionary: Buffer.from("not the format's dictionary") }), /dictionary/i);
});

test("the first boot's Secure Boot NVRAM: Microsoft's keys, and they make UefiData; the store without keys is refused", { skip: !fs.existsSync(path.join(OVMF.dir, OVMF.secureBoot.vars)) && "no OVMF (apt install ovmf)" }, () => {
    const vars = secureBootVariables(readVarStore(fs.readFileSync(path.join(OVMF.dir, OVMF.secureBoot.vars))));
    assert.deepEqual(vars.map((v) => v.name), ["PK", "KEK", "db", "dbx"]);
    const text = (name: string) => Buffer.from(vars.find((v) => v.name === name)!.data, "base64").toString("latin1");
    assert.match(text("KEK"), /Microsoft Corporation KEK CA 2011/);
    assert.match(text("db"), /Microsoft Windows Production PCA 2011/);
    assert.match(text("db"), /Microsoft Corporation UEFI CA 2011/, "the CA that signs shim");
    for (const v of vars) assert.ok(v.attr & 0x20, `${v.name}: time-based authenticated`);
    assert.deepEqual(readUefiData(uefiData(vars)), vars);
    // The control: OVMF's store without keys is a machine in Setup Mode.
    assert.throws(() => secureBootVariables(readVarStore(fs.readFileSync(path.join(OVMF.dir, OVMF.plain.vars))), "OVMF_VARS_4M.fd"), /OVMF_VARS_4M.fd has no PK, KEK, db, dbx: no Secure Boot keys enrolled/);
});
