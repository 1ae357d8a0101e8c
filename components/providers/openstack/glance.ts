// A small Glance v2 client for the OpenStack publisher's command: Keystone v3 auth from
// OpenStack's usual environment (OS_CLOUD and clouds.yaml, or OS_AUTH_URL with a password or an
// application credential), the image endpoint from the catalog, then an image made, its data
// streamed from a file, and its status followed to active. (@pulumi/openstack's Image takes
// only a local path or a URL that the provider downloads itself: neither is the store.)
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Readable } from "stream";
import { parse } from "yaml";

export class GlanceInputError extends Error {}

export interface Auth {
    readonly authUrl: string;
    readonly body: unknown;
    readonly region?: string;
    readonly interface: string;
}

type Env = Record<string, string | undefined>;

/** The auth section of OS_CLOUD's entry in clouds.yaml, as OS_* variables. */
function cloudsYaml(env: Env): Env {
    const name = env.OS_CLOUD;
    if (!name) return {};
    const places = [env.OS_CLIENT_CONFIG_FILE, "clouds.yaml", path.join(os.homedir(), ".config/openstack/clouds.yaml"), "/etc/openstack/clouds.yaml"].filter((p): p is string => Boolean(p));
    const file = places.find((p) => fs.existsSync(p));
    if (!file) throw new GlanceInputError(`OS_CLOUD=${name}: no clouds.yaml (looked in ${places.join(", ")})`);
    const cloud = parse(fs.readFileSync(file, "utf8"))?.clouds?.[name];
    if (!cloud) throw new GlanceInputError(`OS_CLOUD=${name}: ${file} has no cloud '${name}'`);
    const a = cloud.auth ?? {};
    return {
        OS_AUTH_URL: a.auth_url,
        OS_USERNAME: a.username,
        OS_USER_ID: a.user_id,
        OS_PASSWORD: a.password,
        OS_PROJECT_NAME: a.project_name,
        OS_PROJECT_ID: a.project_id,
        OS_USER_DOMAIN_NAME: a.user_domain_name,
        OS_PROJECT_DOMAIN_NAME: a.project_domain_name,
        OS_APPLICATION_CREDENTIAL_ID: a.application_credential_id,
        OS_APPLICATION_CREDENTIAL_SECRET: a.application_credential_secret,
        OS_REGION_NAME: cloud.region_name,
        OS_INTERFACE: cloud.interface,
    };
}

/** Keystone v3 auth from the environment; errors name variables, never their values. */
export function authFromEnv(env: Env = process.env): Auth {
    const e = { ...cloudsYaml(env), ...Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith("OS_") && v)) };
    if (!e.OS_AUTH_URL) throw new GlanceInputError("no OpenStack credentials: set OS_CLOUD (clouds.yaml) or OS_AUTH_URL with OS_USERNAME/OS_PASSWORD/OS_PROJECT_NAME or OS_APPLICATION_CREDENTIAL_ID/SECRET");
    let authUrl = e.OS_AUTH_URL.replace(/\/+$/, "");
    if (!/^https?:\/\//.test(authUrl)) throw new GlanceInputError("OS_AUTH_URL is not an http(s) URL");
    if (!/\/v3$/.test(authUrl)) authUrl += "/v3";
    const domain = (name?: string, id?: string) => (id ? { id } : { name: name ?? "Default" });
    let identity: unknown;
    let scope: unknown;
    if (e.OS_APPLICATION_CREDENTIAL_ID && e.OS_APPLICATION_CREDENTIAL_SECRET) {
        identity = { methods: ["application_credential"], application_credential: { id: e.OS_APPLICATION_CREDENTIAL_ID, secret: e.OS_APPLICATION_CREDENTIAL_SECRET } };
    } else {
        if (!(e.OS_USERNAME || e.OS_USER_ID) || !e.OS_PASSWORD) throw new GlanceInputError("OS_USERNAME (or OS_USER_ID) and OS_PASSWORD are required with OS_AUTH_URL (or an application credential)");
        const user = e.OS_USER_ID ? { id: e.OS_USER_ID } : { name: e.OS_USERNAME, domain: domain(e.OS_USER_DOMAIN_NAME, e.OS_USER_DOMAIN_ID) };
        identity = { methods: ["password"], password: { user: { ...user, password: e.OS_PASSWORD } } };
        const project = e.OS_PROJECT_ID ?? e.OS_TENANT_ID;
        const projectName = e.OS_PROJECT_NAME ?? e.OS_TENANT_NAME;
        if (!project && !projectName) throw new GlanceInputError("OS_PROJECT_NAME (or OS_PROJECT_ID) is required: images belong to a project");
        scope = { project: project ? { id: project } : { name: projectName, domain: domain(e.OS_PROJECT_DOMAIN_NAME, e.OS_PROJECT_DOMAIN_ID) } };
    }
    const iface = (e.OS_INTERFACE ?? "public").replace(/URL$/, "");
    return { authUrl, body: { auth: { identity, ...(scope ? { scope } : {}) } }, region: e.OS_REGION_NAME, interface: iface };
}

export interface ImageRequest {
    readonly name: string;
    readonly diskFormat: string;
    readonly containerFormat: string;
    readonly visibility: string;
    readonly protected: boolean;
    readonly tags: string[];
    readonly properties: Record<string, string>;
}

export interface ImageRecord {
    readonly id: string;
    readonly name: string;
    readonly status: string;
    readonly [property: string]: unknown;
}

async function ok(r: Response, what: string): Promise<Response> {
    if (r.ok) return r;
    const text = (await r.text()).slice(0, 300).replace(/\s+/g, " ");
    const err = new Error(`${what}: HTTP ${r.status} ${text}`) as Error & { status: number };
    err.status = r.status;
    throw err;
}

export class Glance {
    private constructor(
        private readonly token: string,
        private readonly endpoint: string,
    ) {}

    static async connect(auth: Auth = authFromEnv()): Promise<Glance> {
        const r = await ok(await fetch(`${auth.authUrl}/auth/tokens`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(auth.body) }), "Keystone authentication");
        const token = r.headers.get("x-subject-token");
        if (!token) throw new Error("Keystone authentication: no X-Subject-Token in the response");
        const catalog = ((await r.json()) as { token?: { catalog?: { type: string; endpoints: { interface: string; region?: string; region_id?: string; url: string }[] }[] } }).token?.catalog ?? [];
        const endpoints = catalog.find((s) => s.type === "image")?.endpoints ?? [];
        const e = endpoints.find((x) => x.interface === auth.interface && (!auth.region || x.region === auth.region || x.region_id === auth.region));
        if (!e) throw new Error(`no image service (Glance) in the catalog for interface ${auth.interface}${auth.region ? ` in region ${auth.region}` : ""}`);
        return new Glance(token, e.url.replace(/\/+$/, "").replace(/\/v2(\.\d+)?$/, ""));
    }

    private headers(extra: Record<string, string> = {}): Record<string, string> {
        return { "x-auth-token": this.token, ...extra };
    }

    async byName(name: string): Promise<ImageRecord[]> {
        const r = await ok(await fetch(`${this.endpoint}/v2/images?name=${encodeURIComponent(name)}`, { headers: this.headers() }), `listing images named ${name}`);
        return ((await r.json()) as { images: ImageRecord[] }).images;
    }

    async get(id: string): Promise<ImageRecord> {
        return (await (await ok(await fetch(`${this.endpoint}/v2/images/${encodeURIComponent(id)}`, { headers: this.headers() }), `image ${id}`)).json()) as ImageRecord;
    }

    /** A new image record (queued), its properties as Glance's top-level fields. */
    async create(req: ImageRequest, extra: Record<string, string>): Promise<ImageRecord> {
        const body = { ...req.properties, ...extra, name: req.name, disk_format: req.diskFormat, container_format: req.containerFormat, visibility: req.visibility, tags: req.tags };
        const r = await ok(await fetch(`${this.endpoint}/v2/images`, { method: "POST", headers: this.headers({ "content-type": "application/json" }), body: JSON.stringify(body) }), `creating image ${req.name}`);
        return (await r.json()) as ImageRecord;
    }

    /** The image's data, streamed from a file. */
    async upload(id: string, file: string): Promise<void> {
        const size = fs.statSync(file).size;
        const body = Readable.toWeb(fs.createReadStream(file)) as unknown as BodyInit;
        await ok(
            await fetch(`${this.endpoint}/v2/images/${encodeURIComponent(id)}/file`, {
                method: "PUT",
                headers: this.headers({ "content-type": "application/octet-stream", "content-length": String(size) }),
                body,
                duplex: "half",
            } as RequestInit),
            `uploading the data of image ${id}`,
        );
    }

    async setProtected(id: string, value: boolean): Promise<void> {
        await ok(
            await fetch(`${this.endpoint}/v2/images/${encodeURIComponent(id)}`, {
                method: "PATCH",
                headers: this.headers({ "content-type": "application/openstack-images-v2.1-json-patch" }),
                body: JSON.stringify([{ op: "replace", path: "/protected", value }]),
            }),
            `protecting image ${id}`,
        );
    }

    /** Deletes an image; an image already gone is fine. */
    async delete(id: string): Promise<boolean> {
        const r = await fetch(`${this.endpoint}/v2/images/${encodeURIComponent(id)}`, { method: "DELETE", headers: this.headers() });
        if (r.status === 404) return false;
        if (r.status === 403) throw new Error(`image ${id} is protected (openstack.protected): clear it first (openstack image set --unprotected ${id}), then destroy again`);
        await ok(r, `deleting image ${id}`);
        return true;
    }

    /** Waits for an image to leave queued/saving/importing; active is success. */
    async settle(id: string, timeoutMs = 3600_000, everyMs = 5000): Promise<ImageRecord> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const img = await this.get(id);
            if (img.status === "active") return img;
            if (!["queued", "saving", "importing", "uploading"].includes(img.status)) throw new Error(`image ${id} is ${img.status}, not active`);
            if (Date.now() > deadline) throw new Error(`image ${id} still ${img.status} after ${timeoutMs / 1000} s`);
            await new Promise((r) => setTimeout(r, everyMs));
        }
    }
}
