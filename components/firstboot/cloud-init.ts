import { Check } from "./mechanism";

/**
 * cloud-init ran from this cloud's datasource and finished without errors: `cloud-id` names
 * the cloud (Debian 12's cloud-init 22.4); EL7's 0.7.x has neither `status` nor `cloud-id`,
 * so there the instance's recorded datasource is read. Prints what it found, for the report.
 */
export function cloudInitRanFrom(cloudId: string, datasource: string, what: string, redHat?: string): Check {
    return {
        name: `cloud-init ran from ${what} and finished without errors`,
        run: {
            Debian: `cloud-init status --wait >/dev/null; cloud-init status --long; echo "cloud-id: $(cloud-id)"; cloud-init status | grep -qx 'status: done' && [ "$(cloud-id)" = ${cloudId} ]`,
            RedHat: redHat ?? `cat /var/lib/cloud/instance/datasource; test -f /var/lib/cloud/instance/boot-finished && grep -qi ${datasource} /var/lib/cloud/instance/datasource`,
        },
    };
}
