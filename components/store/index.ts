// The artifact store (config artifactStore): where every stage's output lives, addressed by
// the stage's fingerprint, so that a version stack works from any machine with the same
// state, builds are shared between machines, and a stage found there is not built again.
// The URL is parsed here without any cloud SDK (the program reads it at every preview); a
// backend's SDK is loaded only when a command opens the store.
import * as fs from "fs";
import * as path from "path";
import { repoRoot } from "../recipe/paths";
import { LocalStore, type ObjectLocation, type ObjectStore } from "./object-store";

export type { ObjectInfo, ObjectLocation, ObjectStore } from "./object-store";

/** The default: a directory of this checkout (the dev stack needs nothing). */
export const DEFAULT_STORE = "artifacts/store";

/** The store's URL forms, for messages. */
export const STORE_FORMS =
    "a directory (a path, or file:///abs/path), s3://bucket[/prefix][?region=…&endpoint=http(s)://host:port], azblob://account/container[/prefix], gs://bucket[/prefix][?endpoint=…]";

export type StoreSpec =
    | { kind: "file"; url: string; dir: string }
    | { kind: "s3"; url: string; bucket: string; prefix: string; region?: string; endpoint?: string }
    | { kind: "azblob"; url: string; account: string; container: string; prefix: string }
    | { kind: "gs"; url: string; bucket: string; prefix: string; endpoint?: string };

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX = /^[A-Za-z0-9_+-][A-Za-z0-9._+-]*(\/[A-Za-z0-9_+-][A-Za-z0-9._+-]*)*$/;
const ENDPOINT = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$/;

/** What a store URL names; throws an Error saying what is wrong with it. */
export function parseStoreUrl(url: string): StoreSpec {
    if (typeof url !== "string" || !url || /[\0-\x1f\x7f]/.test(url)) throw new Error(`${JSON.stringify(url)} is not ${STORE_FORMS}`);
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1];
    // A URL parser would quietly resolve them: the store would not be where the text says.
    if (scheme && scheme !== "file" && /\/\.\.?(\/|\?|$)/.test(url)) throw new Error(`${url}: '.' and '..' segments are not allowed in a store URL`);
    if (!scheme || scheme === "file") {
        let dir: string;
        if (scheme) {
            const u = new URL(url);
            if (u.host) throw new Error(`${url}: a file:// URL names a directory of this machine (file:///abs/path), not of host '${u.host}'`);
            dir = decodeURIComponent(u.pathname);
        } else dir = path.resolve(repoRoot, url);
        if (/[\0\n]/.test(dir) || dir === "/") throw new Error(`${url} is not a directory for the store`);
        return { kind: "file", url, dir: path.resolve(dir) };
    }
    let u: URL;
    try {
        u = new URL(url);
    } catch {
        throw new Error(`${url} is not a URL: ${STORE_FORMS}`);
    }
    if (u.username || u.password) throw new Error(`${url}: credentials do not go in the URL; they come from the cloud's usual environment`);
    if (u.hash) throw new Error(`${url}: a store URL has no #fragment`);
    const parts = decodeURIComponent(u.pathname).split("/").filter(Boolean);
    const prefix = (from: number) => {
        const p = parts.slice(from).join("/");
        if (p && !PREFIX.test(p)) throw new Error(`${url}: the prefix '${p}' may have only letters, digits, '.', '_', '-' and '/'`);
        return p;
    };
    const query = new Set([...u.searchParams.keys()]);
    const allowed = scheme === "s3" ? ["region", "endpoint"] : scheme === "gs" ? ["endpoint"] : [];
    const unknown = [...query].find((k) => !allowed.includes(k));
    if (unknown) throw new Error(`${url}: '${unknown}' is not a setting of a ${scheme} store; valid: ${allowed.join(", ") || "none"}`);
    const endpoint = u.searchParams.get("endpoint") ?? undefined;
    if (endpoint !== undefined && !ENDPOINT.test(endpoint)) throw new Error(`${url}: endpoint '${endpoint}' is not an http(s)://host[:port] URL`);
    switch (scheme) {
        case "s3": {
            if (!BUCKET.test(u.hostname)) throw new Error(`${url}: '${u.hostname}' is not an S3 bucket name`);
            const region = u.searchParams.get("region") ?? undefined;
            if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new Error(`${url}: region '${region}' is not an AWS region such as eu-west-1`);
            return { kind: "s3", url, bucket: u.hostname, prefix: prefix(0), region, endpoint };
        }
        case "azblob": {
            if (!/^[a-z0-9]{3,24}$/.test(u.hostname)) throw new Error(`${url}: '${u.hostname}' is not a storage account name (3-24 lowercase letters and digits)`);
            if (!parts[0] || !/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(parts[0])) throw new Error(`${url}: '${parts[0] ?? ""}' is not a container name`);
            return { kind: "azblob", url, account: u.hostname, container: parts[0], prefix: prefix(1) };
        }
        case "gs": {
            if (!BUCKET.test(u.hostname)) throw new Error(`${url}: '${u.hostname}' is not a GCS bucket name`);
            return { kind: "gs", url, bucket: u.hostname, prefix: prefix(0), endpoint };
        }
        default:
            throw new Error(`${url}: the scheme '${scheme}' is not one of file, s3, azblob, gs`);
    }
}

/** Why a store URL is not one (undefined when it is). */
export function storeUrlProblem(url: string): string | undefined {
    try {
        parseStoreUrl(url);
        return undefined;
    } catch (e) {
        return (e as Error).message;
    }
}

const join = (prefix: string, key: string) => (prefix ? `${prefix}/${key}` : key);

/** Where an object of the store is, for a cloud to read it and for outputs (no SDK, no I/O). */
export function storeLocation(spec: StoreSpec, key: string): ObjectLocation {
    switch (spec.kind) {
        case "file":
            return { kind: "file", path: path.join(spec.dir, ...key.split("/")) };
        case "s3":
            return { kind: "s3", bucket: spec.bucket, object: join(spec.prefix, key) };
        case "azblob":
            return { kind: "azblob", account: spec.account, container: spec.container, object: join(spec.prefix, key) };
        case "gs":
            return { kind: "gs", bucket: spec.bucket, object: join(spec.prefix, key) };
    }
}

/** An object as people and stack outputs name it: a local path, or s3://, azblob://, gs://. */
export function describeLocation(loc: ObjectLocation): string {
    switch (loc.kind) {
        case "file":
            return loc.path;
        case "azblob":
            return `azblob://${loc.account}/${loc.container}/${loc.object}`;
        default:
            return `${loc.kind}://${loc.bucket}/${loc.object}`;
    }
}

/** The store a URL names (credentials come from each cloud's usual environment). */
export function openStore(url: string): ObjectStore {
    return openSpec(parseStoreUrl(url));
}

function openSpec(spec: StoreSpec, env: NodeJS.ProcessEnv = process.env): ObjectStore {
    if (spec.kind === "file") return new LocalStore(spec.url, spec.dir);
    // Each cloud's store is its provider's (components/providers/<name>/store-<scheme>.ts),
    // required here only when used: the program itself never loads a cloud SDK for the store.
    const providers = path.join(__dirname, "..", "providers");
    const file = fs.readdirSync(providers).map((p) => path.join(providers, p, `store-${spec.kind}`)).find((f) => [".ts", ".js"].some((ext) => fs.existsSync(f + ext)));
    if (!file) throw new Error(`no provider folder has store-${spec.kind}.ts (the store of ${spec.url})`);
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require(file).openStore(spec.url, spec, env);
}

/**
 * One object named by a URL (the store of its folder, and its name there): s3://bucket/dir/name.vhd.
 * `env` holds its credentials when they are not the store's (another Azure account).
 */
export function openObject(url: string, env: NodeJS.ProcessEnv = process.env): { store: ObjectStore; key: string } {
    const spec = parseStoreUrl(url);
    if (spec.kind === "file") return { store: openSpec({ ...spec, dir: path.dirname(spec.dir) }), key: path.basename(spec.dir) };
    const parts = spec.prefix.split("/");
    const key = parts.pop()!;
    if (!key) throw new Error(`${url} names no object`);
    return { store: openSpec({ ...spec, prefix: parts.join("/") }, env), key };
}
