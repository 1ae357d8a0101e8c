// Prints (or writes into a Packer http_directory) one kickstart:
//   npm run --silent ks -- --build virtual/aws --os CentOS-7.2.1511 [--ssh-key PATH] [--site-json JSON] [--out DIR]
// --site-json: overrides of the site variables (a stack's config `site`, checked the same way),
// so that an ISO build's kickstart is the one the program fingerprinted.
// Bad input: exit 2, the reason on stderr.
import { parseArgs } from "util";
import { listBuilds, renderKickstart, writeHttpDirectory } from "../components/kickstart/render";
import { listOses } from "../components/recipe/os";

const USAGE = "usage: npm run --silent ks -- --build <type>/<name> --os <os> [--ssh-key PATH] [--site-json JSON] [--out DIR] [--list]";

function main(argv: string[]): number {
    let values;
    try {
        ({ values } = parseArgs({
            args: argv,
            strict: true,
            allowPositionals: false,
            options: {
                build: { type: "string" },
                os: { type: "string" },
                "ssh-key": { type: "string" },
                "site-json": { type: "string" },
                out: { type: "string" },
                list: { type: "boolean" },
                help: { type: "boolean", short: "h" },
            },
        }));
    } catch (e) {
        process.stderr.write(`ks: ${(e as Error).message}\n${USAGE}\n`);
        return 2;
    }
    if (values.help) {
        process.stdout.write(USAGE + "\n");
        return 0;
    }
    if (values.list) {
        process.stdout.write(`builds: ${listBuilds().join(" ")}\noses: ${listOses().join(" ")}\n`);
        return 0;
    }
    if (!values.build || !values.os) {
        process.stderr.write(`ks: --build and --os are required\n${USAGE}\n`);
        return 2;
    }
    try {
        const opts = { build: values.build, os: values.os, sshPublicKeyFile: values["ssh-key"], siteOverrides: siteJson(values["site-json"]) };
        if (values.out) process.stdout.write(writeHttpDirectory(values.out, opts) + "\n");
        else process.stdout.write(renderKickstart(opts));
    } catch (e) {
        process.stderr.write(`ks: ${(e as Error).message}\n`);
        return 2;
    }
    return 0;
}

function siteJson(text: string | undefined): Record<string, unknown> | undefined {
    if (text === undefined) return undefined;
    try {
        return JSON.parse(text);
    } catch {
        throw new Error(`--site-json: not a JSON object: ${text.slice(0, 100)}`);
    }
}

process.exitCode = main(process.argv.slice(2));
