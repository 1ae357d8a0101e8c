// The OpenStack publisher's command: a Glance image of a stage's artifact from the store.
//   glance-image.ts create --store URL --fingerprint FP --request JSON   (ImageRequest)
//   glance-image.ts delete --created JSON                                ($PULUMI_COMMAND_STDOUT)
// A retry after a kill finds the image it made before by name and request (property
// gold_request): an active one is taken as is, a half-made one is deleted and made again.
// Credentials: OpenStack's usual environment (./glance.ts). stdout: one JSON line.
import { createHash } from "crypto";
import { parseSubcommandOrExit, runMain } from "../../cli/args";
import { stagedArtifact } from "../../store/run-stage";
import { Glance, GlanceInputError, ImageRequest } from "./glance";

const RUN = "ts-node components/providers/openstack/glance-image.ts";
const PROGRAM = {
    name: "glance-image",
    run: RUN,
    summary: "The OpenStack publisher's command: a Glance image of a stage's artifact from the store (credentials: OpenStack's usual environment).",
    examples: [`${RUN} create --store artifacts/store --fingerprint <64 hex digits> --request '{"name":"gold-rocky9","diskFormat":"qcow2","visibility":"private","tags":[],"properties":{}}'`],
};
const COMMANDS = {
    create: {
        summary: "creates the image (or adopts the one an earlier, killed run made)",
        options: {
            store: { help: "the artifact store", required: true, value: "URL" },
            fingerprint: { help: "the stage whose artifact is uploaded", required: true, value: "HEX" },
            request: { help: "the image: {name, diskFormat, visibility, tags, properties, protected?}", required: true, value: "JSON" },
        },
        examples: PROGRAM.examples,
    },
    delete: {
        summary: "deletes the image a create made",
        options: { created: { help: "what its create printed ($PULUMI_COMMAND_STDOUT)", required: true, value: "JSON" } },
        examples: [`${RUN} delete --created "$PULUMI_COMMAND_STDOUT"`],
    },
} as const;

function request(json: string): ImageRequest {
    let r: ImageRequest;
    try {
        r = JSON.parse(json);
    } catch {
        throw new GlanceInputError("--request is not JSON");
    }
    if (typeof r?.name !== "string" || typeof r.diskFormat !== "string" || typeof r.visibility !== "string" || !Array.isArray(r.tags) || typeof r.properties !== "object") {
        throw new GlanceInputError("--request lacks name, diskFormat, visibility, tags or properties");
    }
    return r;
}

async function create(storeUrl: string, fingerprint: string, req: ImageRequest) {
    const { path: file, manifest } = await stagedArtifact(storeUrl, fingerprint);
    const sha256 = manifest.result.sha256;
    const tag = createHash("sha256").update(JSON.stringify([req, sha256])).digest("hex").slice(0, 32);
    const glance = await Glance.connect();
    for (const earlier of (await glance.byName(req.name)).filter((i) => i.gold_request === tag)) {
        if (earlier.status === "active") return { id: earlier.id, name: earlier.name, sha256, adopted: true };
        await glance.delete(earlier.id);
    }
    const image = await glance.create(req, { gold_request: tag, gold_sha256: sha256 });
    try {
        await glance.upload(image.id, file);
        await glance.settle(image.id);
        if (req.protected) await glance.setProtected(image.id, true);
    } catch (e) {
        await glance.delete(image.id).catch(() => undefined);
        throw e;
    }
    return { id: image.id, name: req.name, sha256 };
}

async function main(): Promise<unknown> {
    const a = parseSubcommandOrExit(PROGRAM, COMMANDS, process.argv.slice(2));
    if (a.command === "create") return create(a.values.store, a.values.fingerprint, request(a.values.request));
    let id: string;
    try {
        id = JSON.parse(a.values.created).id;
    } catch {
        throw new GlanceInputError("--created is not the JSON its create printed");
    }
    if (typeof id !== "string" || !id) throw new GlanceInputError("--created has no image id");
    return { id, deleted: await (await Glance.connect()).delete(id) };
}

runMain(PROGRAM, main, [GlanceInputError]);
