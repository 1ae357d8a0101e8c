// The doctor: the checks of ./checks.ts run for a purpose (a stack, or one stage about to build)
// and reported one line each: found or missing, the version, and how to get what is missing.
import { CHECKS, Finding, TOOL_IDS, ToolId } from "./checks";

export type { ToolId } from "./checks";
export { TOOL_IDS } from "./checks";

export interface Report extends Finding {
    readonly id: string;
    readonly title: string;
    readonly optional: boolean;
    readonly fix?: string;
}

/** Runs the probes of `ids` (each once, at the same time), in the order given. */
export async function diagnose(ids: readonly ToolId[]): Promise<Report[]> {
    const unique = [...new Set(ids)];
    return Promise.all(
        unique.map(async (id): Promise<Report> => {
            const check = CHECKS[id];
            let found: Finding;
            try {
                found = await check.probe();
            } catch (e) {
                found = { ok: false, detail: (e as Error).message };
            }
            const optional = "optional" in check && check.optional === true;
            return { id, title: check.title, optional, ...found, ...(found.ok ? {} : { fix: check.fix }) };
        }),
    );
}

/** One report as a line of the doctor's table. */
export function formatReport(r: Report): string {
    const status = r.ok ? "ok     " : r.optional ? "warn   " : "MISSING";
    const what = [r.version, r.detail].filter(Boolean).join("; ");
    return `${status} ${r.id.padEnd(16)} ${what || r.title}${r.fix ? `\n        fix: ${r.fix}` : ""}`;
}

/** Why a comma-separated list is not one of the doctor's checks (undefined when it is). */
export function unknownTool(list: string): string | undefined {
    const bad = list.split(",").filter(Boolean).find((id) => !(TOOL_IDS as string[]).includes(id));
    return bad === undefined ? undefined : `'${bad}' is not a tool the doctor knows; valid choices: ${TOOL_IDS.join(", ")}`;
}

/** The ids of the doctor's checks, refused with the valid ones when one is unknown. */
export function toolIds(list: string, option = "--needs"): ToolId[] {
    const problem = unknownTool(list);
    if (problem) throw new Error(`${option} ${problem}`);
    return list.split(",").filter(Boolean) as ToolId[];
}

/**
 * Before a stage builds: what it needs must be here. Throws one error listing every missing
 * tool with its fix (a missing optional tool only degrades the stage, which says so itself).
 */
export async function requireTools(stage: string, ids: readonly ToolId[]): Promise<void> {
    const missing = (await diagnose(ids)).filter((r) => !r.ok && !r.optional);
    if (missing.length === 0) return;
    throw new Error(`${stage}: this machine cannot build it (npm run doctor checks them all):\n${missing.map(formatReport).join("\n")}`);
}
