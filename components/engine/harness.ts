// Runs the Pulumi program (index.ts) under the SDK's mocks in which every command:local:Command
// executes for real, as @pulumi/command would (same interpreter, dir and environment, the
// previous stdout as PULUMI_COMMAND_STDOUT for update and delete), while cloud resources stay
// mocked. State is kept in a file between runs, as the engine keeps it: a command whose
// triggers match the state is not run again; a changed one is created anew and then its old
// `delete` runs; one no longer in the program is deleted. The end-to-end test runs the whole
// program so; `npm run stage` runs only the stage commands of some OSes and providers.
// Each command's stderr goes whole to its log file (<logDir>/<name>.stderr.log) and, line by
// line, to this process's stderr, each line prefixed by its stage (the engine shows the same
// lines on the resource's row in `pulumi up`); stdout stays the program's.
import * as pulumi from "@pulumi/pulumi";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { StringDecoder } from "node:string_decoder";

interface CommandState {
    readonly triggers: unknown;
    readonly create: string;
    readonly delete?: string;
    readonly dir?: string;
    readonly interpreter?: string[];
    readonly environment?: Record<string, string>;
    readonly stdout: string;
}

interface StateFile {
    commands: Record<string, CommandState>;
    /** Replaced commands whose old `delete` has not run yet (the engine's pending deletes):
     * a run that fails after a replacement keeps them, and the next run deletes them. */
    pendingDeletes?: [string, CommandState][];
}

export interface Execution {
    readonly name: string;
    readonly action: "create" | "update" | "delete";
    readonly seconds: number;
    readonly ok: boolean;
}

export interface HarnessRun {
    /** Stage commands executed this run, in order of completion. */
    readonly executed: Execution[];
    /** Commands that matched the state and were not run. */
    readonly skipped: string[];
    readonly logDir: string;
}

function same(a: unknown, b: unknown): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Whole lines of a stream's chunks to this process's stderr, each prefixed by `label` (parallel
 * stages stay readable), except those that already begin with it (scripts/store.ts names its
 * stage). A line cut between chunks is printed once it ends.
 */
function echoLines(label: string): { write(chunk: Buffer): void; end(): void } {
    const decoder = new StringDecoder("utf8");
    let partial = "";
    const print = (lines: string[]) => {
        if (lines.length) process.stderr.write(lines.map((l) => (l.startsWith(`${label}: `) ? l : `${label}: ${l}`) + "\n").join(""));
    };
    return {
        write(chunk) {
            const lines = (partial + decoder.write(chunk)).split("\n");
            partial = lines.pop()!;
            print(lines);
        },
        end() {
            const rest = partial + decoder.end();
            partial = "";
            if (rest) print([rest]);
        },
    };
}

function exec(name: string, label: string, script: string, c: { dir?: string; interpreter?: string[]; environment?: Record<string, string> }, logDir: string, extraEnv: Record<string, string> = {}) {
    const [shell, ...flags] = c.interpreter?.length ? c.interpreter : ["/bin/sh", "-c"];
    const log = fs.openSync(path.join(logDir, `${name}.stderr.log`), "a");
    const echo = echoLines(label);
    return new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
        const child = spawn(shell, [...flags, script], {
            cwd: c.dir,
            env: { ...process.env, ...(c.environment ?? {}), ...extraEnv },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        child.stdout!.on("data", (d) => (stdout += d));
        child.stderr!.on("data", (d: Buffer) => {
            fs.writeSync(log, d);
            echo.write(d);
        });
        child.on("error", reject);
        child.on("close", (code) => {
            echo.end();
            fs.closeSync(log);
            resolve({ code, stdout });
        });
    });
}

/**
 * Installs the mocks. Call before requiring index.ts; then await `finish()` once the program's
 * outputs are resolved: it deletes what the program no longer has and writes the state.
 */
export function installHarness(opts: {
    project: string;
    stack: string;
    stateFile: string;
    logDir: string;
    /** Which commands run (default all); the others never complete (nothing waiting on them runs). */
    only?: (name: string) => boolean;
    /** Environment of every command run, beside its own. */
    env?: Record<string, string>;
}) {
    fs.mkdirSync(opts.logDir, { recursive: true });
    const state: StateFile = fs.existsSync(opts.stateFile) ? JSON.parse(fs.readFileSync(opts.stateFile, "utf8")) : { commands: {} };
    const next: StateFile = { commands: {} };
    const executed: Execution[] = [];
    const skipped: string[] = [];
    const replaced: [string, CommandState][] = [...(state.pendingDeletes ?? [])];
    const save = (commands: Record<string, CommandState>) =>
        fs.writeFileSync(opts.stateFile, JSON.stringify({ commands, pendingDeletes: replaced }, null, 2));
    const inFlight = new Set<Promise<unknown>>();
    /** Each command's stdout this run, by name, once its state is saved. */
    const stdouts: Record<string, string> = {};

    const run = async (name: string, action: Execution["action"], script: string, c: CommandState | Record<string, any>, env?: Record<string, string>) => {
        const started = Date.now();
        // A stage command's name is its stage's with "-run"; an update or a delete says so.
        const stage = name.replace(/-run$/, "");
        const p = exec(name, action === "create" ? stage : `${stage} (${action})`, script, c, opts.logDir, { ...(opts.env ?? {}), ...(env ?? {}) });
        inFlight.add(p);
        const r = await p.finally(() => inFlight.delete(p));
        const seconds = (Date.now() - started) / 1000;
        executed.push({ name, action, seconds, ok: r.code === 0 });
        if (r.code !== 0) {
            const tail = fs.readFileSync(path.join(opts.logDir, `${name}.stderr.log`), "utf8").split("\n").slice(-30).join("\n");
            throw new Error(`${name}: ${action} failed (exit ${r.code})\n${tail}`);
        }
        return r.stdout;
    };

    pulumi.runtime.setMocks(
        {
            async newResource(args) {
                if (args.type !== "command:local:Command") return { id: `${args.name}-id`, state: args.inputs };
                if (opts.only && !opts.only(args.name)) return new Promise<never>(() => undefined);
                const inputs = args.inputs as Record<string, any>;
                const old = state.commands[args.name];
                let stdout: string;
                if (old && same(old.triggers, inputs.triggers)) {
                    stdout = old.stdout;
                    if (old.create !== inputs.create || !same(old.environment, inputs.environment) || old.dir !== inputs.dir) {
                        // An update: @pulumi/command runs `update` with the previous stdout.
                        stdout = inputs.update
                            ? await run(args.name, "update", inputs.update, inputs, { PULUMI_COMMAND_STDOUT: old.stdout })
                            : await run(args.name, "update", inputs.create, inputs);
                    } else {
                        skipped.push(args.name);
                    }
                } else {
                    stdout = await run(args.name, "create", inputs.create, inputs);
                    if (old) replaced.push([args.name, old]);
                }
                next.commands[args.name] = {
                    triggers: inputs.triggers,
                    create: inputs.create,
                    delete: inputs.delete,
                    dir: inputs.dir,
                    interpreter: inputs.interpreter,
                    environment: inputs.environment,
                    stdout,
                };
                // Each success is saved at once: a later failure must not lose what was built,
                // nor the old copy still to delete.
                save({ ...state.commands, ...next.commands });
                stdouts[args.name] = stdout;
                return { id: `${args.name}-id`, state: { ...inputs, stdout, stderr: "" } };
            },
            call: () => ({}),
        },
        opts.project,
        opts.stack,
        false,
    );

    return {
        async finish(): Promise<HarnessRun> {
            // Replaced commands: the old delete, after the new create (the engine's order).
            while (replaced.length) {
                const [name, old] = replaced[0];
                if (old.delete) await run(name, "delete", old.delete, old, { PULUMI_COMMAND_STDOUT: old.stdout });
                replaced.shift();
                save({ ...state.commands, ...next.commands });
            }
            for (const [name, old] of Object.entries(state.commands)) {
                if (opts.only && !opts.only(name)) {
                    // Not this run's to judge: kept as it was.
                    if (!(name in next.commands)) next.commands[name] = old;
                    continue;
                }
                if (!(name in next.commands) && old.delete) await run(name, "delete", old.delete, old, { PULUMI_COMMAND_STDOUT: old.stdout });
            }
            save(next.commands);
            return { executed, skipped, logDir: opts.logDir };
        },
        /** After a failure: lets the stages still running finish, so none is left orphaned. */
        async drain(): Promise<void> {
            while (inFlight.size) await Promise.allSettled([...inFlight]);
        },
        executed,
        skipped,
        stdouts,
    };
}

/**
 * One `pulumi up` in this process: runs `program` (which declares the resources and resolves
 * once they are all registered, with what to report), then the harness's deletes, and prints
 * one JSON line {ok, ...report, executed, skipped} — or {ok: false, error, ...} after letting
 * the running stages finish, on any failure (including unhandled rejections), and exits 1.
 */
export function reportUp(harness: ReturnType<typeof installHarness>, program: () => Promise<Record<string, unknown>>): void {
    let reported = false;
    const fail = async (error: unknown): Promise<void> => {
        if (reported) return;
        reported = true;
        await harness.drain();
        process.stdout.write(JSON.stringify({ ok: false, error: String((error as Error)?.message ?? error), executed: harness.executed, skipped: harness.skipped }) + "\n");
        process.exit(1);
    };
    process.on("unhandledRejection", fail);
    process.on("uncaughtException", fail);
    (async () => {
        const report = await program();
        const done = await harness.finish();
        reported = true;
        process.stdout.write(JSON.stringify({ ok: true, ...report, executed: done.executed, skipped: done.skipped }) + "\n");
    })().catch(fail);
}
