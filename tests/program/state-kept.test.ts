// Existing version stacks keep their state across refactors: every URN the program registered
// when tests/fixtures/urns.json was written (full config, under mocks) is registered again,
// or is an alias of exactly one resource the program registers now — computed the way the
// engine does: a resource answers for its own URN, its alias specs, and, under an aliased
// parent, the same names under each of the parent's old URNs.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { FULL_STACK, fullConfig } from "../support/full-config";
import { Registered, installMocks, settled, valueOf } from "../support/program";

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "urns.json"), "utf8")) as { stack: string; providers: string[]; urns: string[] };
assert.equal(fixture.stack, FULL_STACK);
installMocks(fixture.stack, fullConfig(fixture.providers));
// eslint-disable-next-line @typescript-eslint/no-var-requires
const program = require("../../index");

/** The qualified type of a URN (parent types joined by $), "" for the stack itself. */
function qualifiedType(urn: string): string {
    const parts = urn.split("::");
    return parts[2] === "pulumi:pulumi:Stack" ? "" : parts[2];
}

function urnOf(stack: string, project: string, parentUrn: string | undefined, type: string, name: string): string {
    const prefix = parentUrn ? qualifiedType(parentUrn) : "";
    return `urn:pulumi:${stack}::${project}::${prefix ? `${prefix}$` : ""}${type}::${name}`;
}

test("every URN of the fixture is this program's own, or the alias of one of its resources", async () => {
    await valueOf(program.images);
    const regs = await settled();
    const byUrn = new Map<string, Registered>(regs.map((r) => [r.urn, r]));
    const [, stack, project] = /^urn:pulumi:(.+?)::(.+?)::/.exec(regs[0].urn) ?? [];
    assert.ok(stack && project, regs[0].urn);

    const memo = new Map<string, string[]>();
    /** Every URN a registration answers for: its own and its old ones. */
    const answersFor = (r: Registered): string[] => {
        const known = memo.get(r.urn);
        if (known) return known;
        const parent = r.parent ? byUrn.get(r.parent) : undefined;
        const parents: (string | undefined)[] = parent ? answersFor(parent) : [r.parent || undefined];
        const specs = [{ type: r.type, name: r.name }, ...r.aliases.filter((a) => !a.urn).map((a) => ({ type: a.type ?? r.type, name: a.name ?? r.name }))];
        const out = new Set<string>([r.urn, ...r.aliases.flatMap((a) => (a.urn ? [a.urn] : []))]);
        for (const p of parents) for (const s of specs) out.add(urnOf(stack, project, p, s.type, s.name));
        const list = [...out];
        memo.set(r.urn, list);
        return list;
    };

    const owner = new Map<string, string>();
    for (const r of regs) {
        for (const urn of answersFor(r)) {
            const other = owner.get(urn);
            assert.ok(!other || other === r.urn, `${urn} would be claimed by both ${other} and ${r.urn}`);
            owner.set(urn, r.urn);
        }
    }
    const lost = fixture.urns.filter((u) => !owner.has(u));
    assert.deepEqual(lost, [], "URNs of the fixture that no resource keeps (their resources would be deleted and created anew)");
    // Nothing added or merged: one resource now for each one then.
    assert.equal(regs.length, fixture.urns.length);
    const renamed = fixture.urns.filter((u) => !byUrn.has(u)).length;
    console.log(`# ${fixture.urns.length} URNs: ${fixture.urns.length - renamed} unchanged, ${renamed} kept by aliases`);
});
