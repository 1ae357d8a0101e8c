// Runs the Pulumi program (index.ts) under the SDK's mocks and records every registration,
// with the resource options that newResource does not see (timeouts, parents, dependencies).
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { createHash } from "node:crypto";
import { providerModule } from "../../components/providers";

export interface Registered {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    inputs: Record<string, any>;
    readonly parent: string;
    readonly dependencies: string[];
    readonly propertyDependencies: Record<string, string[]>;
    readonly customTimeouts?: { create: string; update: string; delete: string };
    readonly replaceOnChanges: string[];
    readonly deleteBeforeReplace: boolean;
    /** Alias specs as the SDK sends them (the engine turns them into old URNs). */
    readonly aliases: AliasSpec[];
}

export interface AliasSpec {
    readonly urn?: string;
    readonly name?: string;
    readonly type?: string;
    readonly parentUrn?: string;
    readonly noParent?: boolean;
}

export const registered: Registered[] = [];

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

/** Stand-ins for the Secure Boot keys a test reports where its cloud registers them (scripts/first-boot.ts). */
export const MOCK_SECURE_BOOT_KEYS = ["PK", "KEK", "db", "dbx"].map((name) => ({ name, guid: name.startsWith("db") ? "d719b2cb-3d3a-4596-a3bc-dad00e67656f" : "8be4df61-93ca-11d2-aa0d-00e098032b8c", attr: 39, data: Buffer.from(`mock ${name}`).toString("base64") }));

function startingKeys(create: string): { secureBootKeys?: typeof MOCK_SECURE_BOOT_KEYS } {
    const provider = /--provider '?([a-z]+)/.exec(create)?.[1];
    const secureBoot = /--boot '?uefi\+secure-boot/.test(create);
    return provider && secureBoot && (providerModule(provider).firstBoot as { registersSecureBootKeys?: boolean }).registersSecureBootKeys ? { secureBootKeys: MOCK_SECURE_BOOT_KEYS } : {};
}

/** What each command prints for real (scripts/store.ts, glance-image.ts, the docker build). */
function commandStdout(name: string, create: string): string {
    if (name.endsWith("-run")) {
        const sum = sha(name);
        const key = `blobs/${sum}/image`;
        const fingerprint = /--fingerprint ([0-9a-f]{64})/.exec(create)?.[1] ?? sha(`fp ${name}`);
        // The VirtualBox and VMware ISO builds make a VMDK; QEMU's builds a qcow2.
        const format = /-only=(virtualbox|vmware)-iso\.iso/.test(create) ? "vmdk" : "qcow2";
        // A first-boot test reports what it checked, beside the artifact it tested.
        const tested = name.endsWith("-test-run") ? { ok: true, login: "mock login", checks: [{ name: "mock check", ok: true }], seconds: 1, ...startingKeys(create) } : {};
        return JSON.stringify({ artifact: `/work/artifacts/store/${key}`, key, file: "image", sha256: sum, bytes: 1024, format, fingerprint, store: "artifacts/store", ...tested });
    }
    const to = /--to (\S+)/.exec(create)?.[1]?.replace(/^'|'$/g, "");
    if (/-(vhd|tarball)-copy$|-page-blob$/.test(name)) return JSON.stringify({ url: to, sha256: sha(name), bytes: 1024 });
    if (name.endsWith("-box") || name.endsWith("-ova")) return JSON.stringify({ path: `/work/${to}`, sha256: sha(name) });
    if (name.endsWith("-glance")) return JSON.stringify({ id: `glance-${sha(name).slice(0, 8)}`, sha256: sha(name) });
    // A docker image: built (untested) or the tested one loaded and tagged.
    const tag = /docker build .* -t (\S+)/.exec(create)?.[1] ?? /docker tag "\$tested" (\S+)/.exec(create)?.[1];
    if (name.endsWith("-image") && tag) return JSON.stringify({ imageName: tag, id: `sha256:${sha(name)}` });
    return JSON.stringify({ ok: true });
}

const wrapped = MockMonitor.prototype.registerResource;
MockMonitor.prototype.registerResource = function (req: any, callback: any) {
    const timeouts = req.getCustomtimeouts();
    const propDeps: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((v: any, k: string) => (propDeps[k] = v.getUrnsList()));
    const entry = {
        type: req.getType(),
        name: req.getName(),
        urn: "",
        inputs: {},
        parent: req.getParent(),
        dependencies: req.getDependenciesList(),
        propertyDependencies: propDeps,
        customTimeouts: timeouts ? { create: timeouts.getCreate(), update: timeouts.getUpdate(), delete: timeouts.getDelete() } : undefined,
        replaceOnChanges: req.getReplaceonchangesList(),
        deleteBeforeReplace: req.getDeletebeforereplace(),
        aliases: req.getAliasesList().map((a: any): AliasSpec => {
            if (a.hasUrn()) return { urn: a.getUrn() };
            const s = a.getSpec();
            return { name: s.getName() || undefined, type: s.getType() || undefined, parentUrn: s.getParenturn() || undefined, noParent: s.getNoparent() || undefined };
        }),
    };
    registered.push(entry);
    return wrapped.call(this, req, (err: any, res: any) => {
        if (res) (entry as any).urn = res.getUrn();
        callback(err, res);
    });
};

export function installMocks(stack: string, config: Record<string, unknown>): void {
    pulumi.runtime.setMocks(
        {
            newResource(args) {
                const entry = [...registered].reverse().find((r) => r.name === args.name && r.type === args.type);
                if (entry) entry.inputs = args.inputs;
                const state: Record<string, unknown> = { ...args.inputs };
                if (args.type === "command:local:Command") state.stdout = commandStdout(args.name, String(args.inputs.create ?? ""));
                if (args.type === "gcp:compute/image:Image") state.selfLink = `https://www.googleapis.com/compute/v1/projects/p/global/images/${args.inputs.name}`;
                if (args.type === "docker:index/registryImage:RegistryImage") state.sha256Digest = `sha256:${sha(args.name)}`;
                return { id: `${args.name}-id`, state };
            },
            call(args) {
                if (args.token === "azure-native:storage:listStorageAccountKeys") return { keys: [{ keyName: "key1", value: "not-a-real-key" }] };
                if (args.token === "azure-native:authorization:getClientConfig") return { subscriptionId: "00000000-0000-0000-0000-000000000000" };
                return {};
            },
        },
        "gold-images",
        stack,
        false,
    );
    setConfig(config);
}

/** Replaces the whole stack config: keys without a namespace are the project's. */
export function setConfig(config: Record<string, unknown>): void {
    const all: Record<string, string> = {};
    for (const [k, v] of Object.entries(config)) all[k.includes(":") ? k : `gold-images:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    pulumi.runtime.setAllConfig(all);
}

export function valueOf<T>(output: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

/** Waits until no registration arrives for a moment: the program's graph is complete. */
export async function settled(): Promise<Registered[]> {
    let count = -1;
    while (count !== registered.length) {
        count = registered.length;
        await new Promise((r) => setTimeout(r, 200));
    }
    return registered;
}

export const byType = (type: string) => registered.filter((r) => r.type === type);
