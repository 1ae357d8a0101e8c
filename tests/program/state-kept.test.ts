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

/**
 * Resources the program no longer makes, on purpose: each is named with its reason. Every other
 * URN of the fixture must be kept.
 */
const RETIRED: [RegExp, string][] = [
    [/::gold:publish:AwsImage\$aws:iam\/(role:Role|rolePolicy:RolePolicy)::/, "the account-wide vmimport role is made once outside the version stacks (examples/aws-vmimport-role)"],
    // The artifact store (issue 12): no cloud resource takes a multi-GB file any more (the engine
    // hashed each one at every preview, and a machine without the file could not run the stack).
    [/::gold:publish:AwsImage\$aws:s3\/bucketObjectv2:BucketObjectv2::/, "the VHD in S3 is the store's object or a copy made by a command keyed by its sha256"],
    [/::gold:publish:GcpImage\$gcp:storage\/bucketObject:BucketObject::/, "the tar.gz in GCS is the store's object or a copy made by a command keyed by its sha256"],
    [/::gold:publish:OpenstackImage\$openstack:images\/image:Image::/, "the Glance image is made by a command that streams the artifact from the store (the provider's Image takes only a local path)"],
    [/::gold:publish:DockerImage\$docker:index\/image:Image::/, "the local image is built by a command from the context restored from the store (the provider's Image hashes its context at every preview)"],
];

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
    const retired = fixture.urns.filter((u) => !owner.has(u) && RETIRED.some(([re]) => re.test(u)));
    const lost = fixture.urns.filter((u) => !owner.has(u) && !retired.includes(u));
    assert.deepEqual(lost, [], "URNs of the fixture that no resource keeps (their resources would be deleted and created anew)");
    for (const [re, why] of RETIRED) assert.ok(retired.some((u) => re.test(u)), `the retirement ${re} (${why}) matches nothing: remove it`);
    const renamed = fixture.urns.filter((u) => !byUrn.has(u) && !retired.includes(u)).length;
    const added = regs.filter((r) => !answersFor(r).some((u) => fixture.urns.includes(u)));
    console.log(`# ${fixture.urns.length} URNs: ${fixture.urns.length - renamed - retired.length} unchanged, ${renamed} kept by aliases, ${retired.length} retired; ${added.length} resources added (${[...new Set(added.map((r) => r.type))].join(", ")})`);
});
