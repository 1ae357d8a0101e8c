// Writes tests/fixtures/urns.json: every URN the program registers for the full config under
// mocks. Run once before a change that moves or renames components; the state test
// (tests/program/state-kept.test.ts) then proves the new program keeps each of them.
//   TS_NODE_TRANSPILE_ONLY=true node --require ts-node/register tests/support/write-urn-fixture.ts
import * as fs from "node:fs";
import * as path from "node:path";
import { FULL_STACK, fullConfig } from "./full-config";
import { installMocks, settled, valueOf } from "./program";

const PROVIDERS = ["aws", "azure", "docker", "gcp", "openstack", "virtualbox", "vmware"];

async function main() {
    installMocks(FULL_STACK, fullConfig(PROVIDERS));
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const program = require("../../index");
    await valueOf(program.images);
    const urns = (await settled()).map((r) => r.urn).sort();
    const file = path.join(__dirname, "..", "fixtures", "urns.json");
    fs.writeFileSync(file, JSON.stringify({ stack: FULL_STACK, providers: PROVIDERS, urns }, null, 2) + "\n");
    console.log(`${urns.length} URNs written to ${file}`);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
