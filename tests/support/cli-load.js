// Loads index.ts the way the Pulumi CLI's Node.js host does (cmd/run of @pulumi/pulumi, which
// registers ts-node and TypeScript from node_modules with type checking), under mocks.
// Plain JavaScript on purpose: nothing may be preloaded that the CLI would not preload.
const fs = require("fs");
const path = require("path");
const root = path.resolve(__dirname, "..", "..");
const pulumi = require(path.join(root, "node_modules/@pulumi/pulumi"));
const YAML = require(path.join(root, "node_modules/yaml"));

let count = 0;
pulumi.runtime.setMocks(
    {
        newResource(args) {
            count++;
            const state = { ...args.inputs };
            if (args.type === "command:local:Command") {
                // What scripts/store.ts prints for a stage: where its artifact is and what it is.
                state.stdout = JSON.stringify({ artifact: `/x/${args.name}`, key: `blobs/${"0".repeat(64)}/image`, file: "image", sha256: "0".repeat(64), bytes: 1, format: "qcow2", fingerprint: "1".repeat(64), store: "artifacts/store", context: "/x" });
            }
            return { id: `${args.name}-id`, state };
        },
        call: () => ({}),
    },
    "gold-images",
    "dev",
    false,
);
const dev = YAML.parse(fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8")).config;
pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(dev).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])));

// The CLI's language host starts `node .../cmd/run --monitor=... [program]` with TypeScript
// on; the monitor here is the SDK's mock, set above, so the address is never dialled.
process.env.PULUMI_NODEJS_TYPESCRIPT = "true";
const { MockMonitor } = require(path.join(root, "node_modules/@pulumi/pulumi/runtime/mocks"));
const registerOutputs = MockMonitor.prototype.registerResourceOutputs;
let outputs;
MockMonitor.prototype.registerResourceOutputs = function (req, callback) {
    if (req.getUrn().includes("pulumi:pulumi:Stack")) outputs = req.getOutputs().toJavaScript();
    return registerOutputs.call(this, req, callback);
};
process.argv = [process.argv[0], "run", "--monitor=127.0.0.1:1", "--engine=127.0.0.1:1", "--project=gold-images", "--stack=dev", `--pwd=${root}`, "."];
require(path.join(root, "node_modules/@pulumi/pulumi/cmd/run"));
let reported = false;
process.on("beforeExit", () => {
    if (reported) return;
    reported = true;
    const ts = require(path.join(root, "node_modules/typescript")).version;
    console.log(JSON.stringify({ resources: count, version: outputs && outputs.version, typescript: ts, exitCode: process.exitCode || 0 }));
});
