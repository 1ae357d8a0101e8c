import { Check } from "./mechanism";

/**
 * cloud-init ran from this cloud's datasource and finished without errors. Where cloud-init has
 * `status` (Debian 12's 22.4, EL8/EL9's), `status --long` must say done, not degraded, with no errors listed, and the
 * datasource must be this cloud's; EL7's 0.7.x has no `status`: its result.json must list no
 * errors and its recorded datasource must be this cloud's. Prints what it found, for the report.
 * `agentProvisioned` replaces the test where the cloud's agent provisions instead (Azure on EL).
 */
export function cloudInitRanFrom(cloudId: string, datasource: string, what: string, agentProvisioned?: string): Check {
    const ds = `grep -qi ${datasource} /var/lib/cloud/instance/datasource`;
    const withStatus = `cloud-init status --wait >/dev/null; cloud-init status --long; cat /var/lib/cloud/instance/datasource; cloud-init status | grep -qx 'status: done' && ! cloud-init status --long | grep -Eqi '^(errors|recoverable_errors):.*[^][ ]|degraded' && ${ds}`;
    const resultJson = `cat /var/lib/cloud/data/result.json /var/lib/cloud/instance/datasource; test -f /var/lib/cloud/instance/boot-finished && python -c 'import json,sys; sys.exit(1 if json.load(open("/var/lib/cloud/data/result.json"))["v1"]["errors"] else 0)' && ${ds}`;
    return {
        name: `cloud-init ran from ${what} and finished without errors`,
        run: {
            Debian: `${withStatus} && [ "$(cloud-id)" = ${cloudId} ]`,
            RedHat: agentProvisioned ?? `if cloud-init status --help >/dev/null 2>&1; then ${withStatus}; else ${resultJson}; fi`,
        },
    };
}
