// Prints (or writes into a Packer http_directory) one kickstart:
//   npm run --silent ks -- --build virtual/aws --os CentOS-7.2.1511 [--ssh-key PATH] [--out DIR]
// Bad input: exit 2, the reason on stderr.
import { parseArgs } from "util";
import { listBuilds, renderKickstart, writeHttpDirectory } from "../components/kickstart/render";
import { listOses } from "../components/recipe/os";

const USAGE = "usage: npm run --silent ks -- --build <type>/<name> --os <os> [--ssh-key PATH] [--out DIR] [--list]";

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
    const opts = { build: values.build, os: values.os, sshPublicKeyFile: values["ssh-key"] };
    try {
        if (values.out) process.stdout.write(writeHttpDirectory(values.out, opts) + "\n");
        else process.stdout.write(renderKickstart(opts));
    } catch (e) {
        process.stderr.write(`ks: ${(e as Error).message}\n`);
        return 2;
    }
    return 0;
}

process.exitCode = main(process.argv.slice(2));
