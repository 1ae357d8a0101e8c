import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { ToolId } from "../doctor";
import { PlannedStage } from "../fingerprint";
import { repoRoot } from "../recipe/paths";
import { q, sh } from "../shell";

/** What every stage command prints: one JSON object on stdout, nothing else (scripts/store.ts run). */
export interface StageResult {
    /** Where the artifact is: a path of a directory store, else s3://, azblob://, gs://. */
    readonly artifact: string;
    /** Its blob in the store (blobs/<sha256>/<name>). */
    readonly key: string;
    readonly sha256: string;
    readonly bytes: number;
    readonly fingerprint: string;
    readonly [extra: string]: unknown;
}

export function parseStageResult(stdout: string, stage: string): StageResult {
    let value: StageResult;
    try {
        value = JSON.parse(stdout.trim());
    } catch {
        throw new Error(`${stage}: stdout is not the one JSON object a stage prints: ${JSON.stringify(stdout.slice(0, 200))}`);
    }
    if (typeof value?.artifact !== "string" || typeof value.key !== "string" || !/^[0-9a-f]{64}$/.test(String(value.sha256)) || typeof value.bytes !== "number") {
        throw new Error(`${stage}: stdout lacks artifact/key/sha256/bytes: ${JSON.stringify(stdout.slice(0, 200))}`);
    }
    return value;
}

/** The store's CLI, as the commands run it. */
export const STORE_CLI = ["node_modules/.bin/ts-node", "--transpile-only", "scripts/store.ts"];

/** What a build reads of its input (the artifact of the stage before it), set by `store.ts run`. */
export const INPUT = {
    path: '"$GOLD_INPUT"',
    sha256: '"$GOLD_INPUT_SHA256"',
    format: '"$GOLD_INPUT_FORMAT"',
    /** One of the input stage's small files, by its path in the stage (e.g. context/Dockerfile). */
    file: (rel: string) => `"$GOLD_INPUT_DIR"/${sh([rel])}`,
};

export interface StageCommandArgs {
    /** The stack that owns artifacts/<version>/ (scripts/claim-version.sh): one version, one stack. */
    readonly stack: string;
    readonly version: string;
    /** The artifact store (config artifactStore). */
    readonly store: string;
    /** The stage's planned inputs: its fingerprint is the command's trigger and its key in the store. */
    readonly plan: PlannedStage;
    /** The directory the stage builds into (before it is stored); its `delete` removes that and nothing else. */
    readonly directory: string;
    /** The OS (its id) and the provider (none for a base) the stage is of: its start line names them. */
    readonly os: string;
    readonly provider?: string;
    /** Where the build writes its log while it runs, given its directory (its start line says). */
    readonly log?: (directory: string) => string;
    /** The build's command line, given its directory; it reads its input as INPUT.path. */
    readonly create: (directory: string) => string;
    /** The stage whose artifact this one reads: found in the store by its fingerprint. */
    readonly input?: StageComponent;
    /** The artifact is a disk Azure imports: a page blob when the store is Azure's. */
    readonly pageBlob?: boolean;
    /** How long the stage may run (Packer installs under emulation take hours). */
    readonly timeout: string;
    /** What the build needs on the machine (the doctor's checks): checked only when it builds, before it starts. */
    readonly needs: readonly ToolId[];
    /** Environment that changes how the stage runs, not what it makes (an update, not a rebuild). */
    readonly environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * The stage's command line, the same for the program and for `npm run stage`: found in the
 * store by its fingerprint, or built and stored. Nothing of it is a path of an earlier run.
 */
export function stageCommandLine(name: string, args: StageCommandArgs): { create: string; update: string; delete: string; directory: string } {
    const directory = `${args.directory}/${args.plan.fingerprint.slice(0, 12)}`;
    const versionDir = q(`artifacts/${args.version}`);
    const stack = q(args.stack);
    const stage = ["--store", args.store, "--fingerprint", args.plan.fingerprint, "--stage", name, ...(args.input ? ["--input", args.input.fingerprint] : [])];
    const page = args.pageBlob ? ["--page-blob", "yes"] : [];
    const needs = args.needs.length ? ["--needs", [...new Set(args.needs)].join(",")] : [];
    const about = ["--os", args.os, ...(args.provider ? ["--provider", args.provider] : []), ...(args.log ? ["--log", args.log(directory)] : [])];
    const run = sh([...STORE_CLI, "run", ...stage, "--dir", directory, ...about, ...page, ...needs, "--command", args.create(directory)]);
    return {
        create: `scripts/claim-version.sh ${versionDir} ${stack} && ${run}`,
        // A changed command line or environment (another checkout, a moved store) keeps the
        // artifact: the stored result is printed again for this store, reading nothing of it.
        // (A result of a version before the store is stored first, from its directory.)
        update: sh([...STORE_CLI, "update", ...stage, ...page]),
        // Its siblings are directory.partial, .http, .failed.log: this build's own leftovers;
        // none when another stack owns the version's directory. The store is never touched:
        // its blobs are shared by fingerprint (store.ts gc removes what no stack references).
        delete: `if scripts/claim-version.sh --check ${versionDir} ${stack}; then rm -rf -- ${q(directory)} ${q(directory)}.*; fi`,
        directory,
    };
}

/** What a later stage or a publisher reads of a stage: its stored result, after its command. */
export interface StoredStage {
    readonly result: pulumi.Output<StageResult>;
    readonly artifact: pulumi.Output<string>;
    readonly sha256: pulumi.Output<string>;
    /** Content fingerprint of the stage's inputs: its key in the artifact store. */
    readonly fingerprint: string;
    /** The stage's command: what a later stage waits for. */
    readonly command: pulumi.Resource;
}

/**
 * A stage's component: one stage command (a command.local.Command, replaced when its
 * fingerprint changes, and only then), its result (where the artifact is, its sha256) and its
 * fingerprint as outputs. `formerType` is the type it had before (an alias keeps the state).
 */
export abstract class StageComponent extends pulumi.ComponentResource implements StoredStage {
    public readonly result: pulumi.Output<StageResult>;
    public readonly artifact: pulumi.Output<string>;
    public readonly sha256: pulumi.Output<string>;
    /** Content fingerprint of this stage's inputs: its key in the artifact store. */
    public readonly fingerprint: string;
    /** The stage's command: what a later stage waits for. */
    public readonly command: command.local.Command;

    protected constructor(type: string, name: string, args: StageCommandArgs, opts?: pulumi.ComponentResourceOptions, formerType?: string) {
        super(type, name, {}, formerType ? { ...opts, aliases: [...(opts?.aliases ?? []), { type: formerType }] } : opts);
        const line = stageCommandLine(name, args);
        this.command = new command.local.Command(
            `${name}-run`,
            {
                create: line.create,
                delete: line.delete,
                update: line.update,
                dir: repoRoot,
                interpreter: ["/bin/bash", "-c"],
                environment: args.environment,
                triggers: args.plan.triggers,
                // The status `pulumi up` shows while the stage runs is its stderr, line by line
                // (start, progress, end); stdout is the one JSON object, for the program.
                logging: command.types.enums.local.Logging.Stderr,
            },
            { parent: this, dependsOn: args.input ? [args.input.command] : [], customTimeouts: { create: args.timeout, update: "3h", delete: "30m" } },
        );
        this.result = this.command.stdout.apply((s) => parseStageResult(s, name));
        this.artifact = this.result.apply((r) => r.artifact);
        this.sha256 = this.result.apply((r) => r.sha256);
        this.fingerprint = args.plan.fingerprint;
        this.registerOutputs({ artifact: this.artifact, sha256: this.sha256, fingerprint: this.fingerprint });
    }
}
