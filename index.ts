// Gold Standard Images: one stack per image version. `pulumi up` builds every OS of the
// stack through base → variant → conversion (→ publish), and exports the image ids for
// application stacks (StackReference(...).requireOutput("images")).
import { loadConfig } from "./components/config";
import { buildOs, preflight, stageFingerprints } from "./components/pipeline";
import { StoreReferences } from "./components/store/references";

// Every config and recipe error is thrown here, before any resource is registered.
const config = loadConfig();
const plans = preflight(config);

export const version = config.version;
// What this stack uses of the artifact store: kept by `npm run store -- gc` while the stack lives.
new StoreReferences("store-references", { store: config.artifactStore, fingerprints: stageFingerprints(plans) });
export const images = Object.fromEntries(plans.map((p) => [p.os.vm_name, buildOs(config, p)]));
