// Signed manifests: whoever can write to a shared store must not decide alone what gets
// published. A stage's manifest is stored as a DSSE envelope (https://github.com/secure-systems-lab/dsse:
// the manifest's bytes as payload, an ed25519 signature over DSSE's pre-authentication
// encoding) when the machine has a signing key, and readers that trust keys refuse a manifest
// that is unsigned or whose signature is by no trusted key. Keys come from the environment
// (a CI secret), never from the repository or the stack's outputs:
//   GOLD_STORE_SIGNING_KEY   the ed25519 private key (PEM, or a file holding it) that signs
//   GOLD_STORE_TRUSTED_KEYS  the public keys (PEM, concatenated, or files, comma-separated) a reader accepts
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "crypto";
import * as fs from "fs";

export const MANIFEST_PAYLOAD_TYPE = "application/vnd.gold-images.stage-manifest+json";

export interface Envelope {
    readonly payloadType: string;
    /** The manifest's bytes, base64. */
    readonly payload: string;
    readonly signatures: readonly { readonly keyid: string; readonly sig: string }[];
}

/** DSSE's pre-authentication encoding: what is signed (the type is bound to the bytes). */
export function pae(payloadType: string, payload: Buffer): Buffer {
    const type = Buffer.from(payloadType, "utf8");
    return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** A key's id: the sha256 of its public key (SubjectPublicKeyInfo, DER), hex. */
export function keyId(key: KeyObject): string {
    const pub = key.type === "private" ? createPublicKey(key) : key;
    return createHash("sha256").update(pub.export({ type: "spki", format: "der" })).digest("hex");
}

/** PEM text, or the text of the files a value names (comma-separated). */
function pemOf(value: string, name: string): string {
    if (value.includes("-----BEGIN")) return value;
    return value.split(",").filter(Boolean).map((file) => {
        try {
            return fs.readFileSync(file.trim(), "utf8");
        } catch (e) {
            throw new Error(`${name}: '${file}' is neither a PEM key nor a readable file (${(e as NodeJS.ErrnoException).code})`);
        }
    }).join("\n");
}

function ed25519(key: KeyObject, name: string): KeyObject {
    if (key.asymmetricKeyType !== "ed25519") throw new Error(`${name}: an ${key.asymmetricKeyType} key; manifests are signed with ed25519 (openssl genpkey -algorithm ed25519)`);
    return key;
}

/** The signing key of this machine (GOLD_STORE_SIGNING_KEY), if any. */
export function signingKey(env: NodeJS.ProcessEnv = process.env): KeyObject | undefined {
    const v = env.GOLD_STORE_SIGNING_KEY;
    if (!v) return undefined;
    try {
        return ed25519(createPrivateKey(pemOf(v, "GOLD_STORE_SIGNING_KEY")), "GOLD_STORE_SIGNING_KEY");
    } catch (e) {
        throw new Error(`GOLD_STORE_SIGNING_KEY: not an ed25519 private key in PEM (${(e as Error).message})`);
    }
}

/** The public keys a reader trusts (GOLD_STORE_TRUSTED_KEYS), by key id; undefined: signatures are not required. */
export function trustedKeys(env: NodeJS.ProcessEnv = process.env): Map<string, KeyObject> | undefined {
    const v = env.GOLD_STORE_TRUSTED_KEYS;
    if (!v) return undefined;
    const pems = pemOf(v, "GOLD_STORE_TRUSTED_KEYS").match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g) ?? [];
    if (!pems.length) throw new Error("GOLD_STORE_TRUSTED_KEYS: no PEM public key (-----BEGIN PUBLIC KEY-----) in it");
    return new Map(pems.map((p) => ed25519(createPublicKey(p), "GOLD_STORE_TRUSTED_KEYS")).map((k) => [keyId(k), k]));
}

/**
 * Why this machine must not store a stage (undefined when it may): it trusts keys, so its
 * stage must be signed by one of them.
 */
export function cannotSign(env: NodeJS.ProcessEnv = process.env): string | undefined {
    const trusted = trustedKeys(env);
    if (!trusted) return undefined;
    const signer = signingKey(env);
    if (!signer) return "GOLD_STORE_TRUSTED_KEYS is set and GOLD_STORE_SIGNING_KEY is not: a stage stored here would be unsigned, and refused";
    if (!trusted.has(keyId(signer))) return `GOLD_STORE_SIGNING_KEY (key ${keyId(signer).slice(0, 12)}) is not among GOLD_STORE_TRUSTED_KEYS: a stage stored here would be refused`;
    return undefined;
}

/** A manifest's text as stored: a DSSE envelope signed with `key`. */
export function signManifest(text: string, key: KeyObject): string {
    const payload = Buffer.from(text, "utf8");
    const sig = sign(null, pae(MANIFEST_PAYLOAD_TYPE, payload), key).toString("base64");
    const envelope: Envelope = { payloadType: MANIFEST_PAYLOAD_TYPE, payload: payload.toString("base64"), signatures: [{ keyid: keyId(key), sig }] };
    return JSON.stringify(envelope, null, 2) + "\n";
}

function isEnvelope(v: unknown): v is Envelope {
    const e = v as Envelope;
    return typeof e?.payloadType === "string" && typeof e.payload === "string" && Array.isArray(e.signatures);
}

/**
 * The manifest text a stored object holds, or why it is refused. With `trusted` keys, only an
 * envelope with a valid signature by one of them is accepted; without, an envelope's payload
 * is read unchecked and a plain manifest as it is.
 */
export function openManifest(stored: string, trusted: Map<string, KeyObject> | undefined): { text: string; signedBy?: string } | { refused: string } {
    let parsed: unknown;
    try {
        parsed = JSON.parse(stored);
    } catch {
        return trusted ? { refused: "its manifest is not JSON, let alone signed" } : { text: stored };
    }
    if (!isEnvelope(parsed)) return trusted ? { refused: "its manifest is not signed (GOLD_STORE_TRUSTED_KEYS asks for a signature)" } : { text: stored };
    if (parsed.payloadType !== MANIFEST_PAYLOAD_TYPE) return { refused: `its envelope's payload type is ${JSON.stringify(parsed.payloadType)}, not ${MANIFEST_PAYLOAD_TYPE}` };
    const payload = Buffer.from(parsed.payload, "base64");
    if (!trusted) return { text: payload.toString("utf8") };
    const signed = pae(parsed.payloadType, payload);
    for (const s of parsed.signatures) {
        if (typeof s?.sig !== "string") continue;
        // A signature without a key id (DSSE makes it optional) is tried against every trusted key.
        const candidates = typeof s.keyid === "string" && s.keyid ? [trusted.get(s.keyid)] : [...trusted.values()];
        for (const key of candidates) {
            if (key && verify(null, signed, key, Buffer.from(s.sig, "base64"))) return { text: payload.toString("utf8"), signedBy: keyId(key) };
        }
    }
    const ids = parsed.signatures.map((s) => String(s?.keyid ?? "").slice(0, 12) || "(no key id)").join(", ") || "none";
    return { refused: `its manifest's signature is by no trusted key (signed by ${ids}; GOLD_STORE_TRUSTED_KEYS trusts ${[...trusted.keys()].map((k) => k.slice(0, 12)).join(", ")}), or does not match its bytes` };
}
