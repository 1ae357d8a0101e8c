// Gold Standard Images: one stack per image version. `pulumi up` builds every OS of the
// stack through base → variant → conversion (→ publish), and exports the image ids for
// application stacks (StackReference(...).requireOutput("images")).
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./components/config";
import { buildOs, preflight } from "./components/pipeline";

// Every config and recipe error is thrown here, before any resource is registered.
const config = loadConfig();
preflight(config);
const dockerPassword = new pulumi.Config().getSecret("dockerPassword");

export const version = config.version;
export const images = Object.fromEntries(config.oses.map((os) => [os, buildOs(config, os, dockerPassword)]));
