import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PlannedStage } from "../fingerprint";
import { repoRoot } from "../recipe/paths";
import { q } from "../shell";

/** What every stage command prints: one JSON object on stdout, nothing else. */
export interface StageResult {
    readonly artifact: string;
    readonly sha256: string;
    readonly bytes: number;
    readonly [extra: string]: unknown;
}

export function parseStageResult(stdout: string, stage: string): StageResult {
    let value: StageResult;
    try {
        value = JSON.parse(stdout.trim());
    } catch {
        throw new Error(`${stage}: stdout is not the one JSON object a stage prints: ${JSON.stringify(stdout.slice(0, 200))}`);
    }
    if (typeof value?.artifact !== "string" || !/^[0-9a-f]{64}$/.test(String(value.sha256)) || typeof value.bytes !== "number") {
        throw new Error(`${stage}: stdout lacks artifact/sha256/bytes: ${JSON.stringify(stdout.slice(0, 200))}`);
    }
    return value;
}

export interface StageCommandArgs {
    /** The stack that owns artifacts/<version>/ (scripts/claim-version.sh): one version, one stack. */
    readonly stack: string;
    readonly version: string;
    /** The stage's planned inputs: its fingerprint is the command's trigger. */
    readonly plan: PlannedStage;
    /** The directory the stage builds into; its `delete` removes that and nothing else. */
    readonly directory: string;
    /** Makes the command line from the directory. */
    readonly create: (directory: string) => pulumi.Input<string>;
    /** How long the stage may run (Packer installs under emulation take hours). */
    readonly timeout: string;
    /** Environment that changes how the stage runs, not what it makes (an update, not a rebuild). */
    readonly environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * One stage as a command.local.Command: replaced when its fingerprint changes (so the new
 * artifact is built before the old one's directory is deleted), and only then.
 */
export function stageCommand(name: string, args: StageCommandArgs, parent: pulumi.Resource) {
    const directory = `${args.directory}/${args.plan.fingerprint.slice(0, 12)}`;
    const versionDir = q(`artifacts/${args.version}`);
    const stack = q(args.stack);
    const cmd = new command.local.Command(
        `${name}-run`,
        {
            create: pulumi.interpolate`scripts/claim-version.sh ${versionDir} ${stack} && ${args.create(directory)}`,
            // Its siblings are directory.partial, .http, .failed.log: this build's own leftovers;
            // none when another stack owns the version's directory (nothing of this one is there).
            delete: `if scripts/claim-version.sh --check ${versionDir} ${stack}; then rm -rf -- ${q(directory)} ${q(directory)}.*; fi`,
            // An environment-only change keeps the artifact: print the stored result again.
            update: 'printf "%s" "$PULUMI_COMMAND_STDOUT"',
            dir: repoRoot,
            interpreter: ["/bin/bash", "-c"],
            environment: args.environment,
            triggers: args.plan.triggers,
        },
        { parent, customTimeouts: { create: args.timeout, update: "5m", delete: "30m" } },
    );
    const result = cmd.stdout.apply((s) => parseStageResult(s, name));
    return { command: cmd, result, directory };
}

/**
 * A stage's component: one stage command under it, its result (the artifact, its sha256) and
 * its fingerprint as outputs. `formerType` is the type it had before (an alias keeps the state).
 */
export abstract class StageComponent extends pulumi.ComponentResource {
    public readonly result: pulumi.Output<StageResult>;
    public readonly artifact: pulumi.Output<string>;
    public readonly sha256: pulumi.Output<string>;
    /** Content fingerprint of this stage's inputs. */
    public readonly fingerprint: string;

    protected constructor(type: string, name: string, command: StageCommandArgs, opts?: pulumi.ComponentResourceOptions, formerType?: string) {
        super(type, name, {}, formerType ? { ...opts, aliases: [...(opts?.aliases ?? []), { type: formerType }] } : opts);
        const stage = stageCommand(name, command, this);
        this.result = stage.result;
        this.artifact = stage.result.apply((r) => r.artifact);
        this.sha256 = stage.result.apply((r) => r.sha256);
        this.fingerprint = command.plan.fingerprint;
        this.registerOutputs({ artifact: this.artifact, sha256: this.sha256, fingerprint: this.fingerprint });
    }
}
