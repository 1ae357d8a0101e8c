// Prints (or writes into a Packer http_directory) one kickstart:
//   npm run --silent ks -- --build virtual/aws --os CentOS-7.2.1511 [--ssh-key PATH] [--site-json JSON] [--proxy URL] [--out DIR]
//   npm run --silent ks -- --list
// --site-json: overrides of the site variables (a stack's config `site`, checked the same way),
// so that an ISO build's kickstart is the one the program fingerprinted.
// Exit 0 ok, 2 bad input (an unknown build or OS, an OS without a kickstart), 1 a failure (the
// build key missing, a broken definition file).
import * as fs from "fs";
import { matches, parseOrExit, runMain } from "../components/cli/args";
import { BadNameError, UnknownChoiceError } from "../components/kickstart/errors";
import { listBuilds, renderKickstart, writeHttpDirectory } from "../components/kickstart/render";
import { providerNames } from "../components/providers";
import { listKickstartOses } from "../components/recipe/os";
import { checkSite } from "../components/recipe/site";

const PROGRAM = { name: "ks", run: "npm run --silent ks --" };

/** --site-json as an object, or what is wrong with it (checked as config `site` is). */
function siteJson(text: string): Record<string, unknown> | string {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        return `not a JSON object: ${text.slice(0, 100)}`;
    }
    try {
        checkSite(value, "site variable ");
    } catch (e) {
        return (e as Error).message;
    }
    return value as Record<string, unknown>;
}

const SPEC = {
    summary: "Renders one kickstart (build definition + OS file + site variables + keys) to stdout, or to DIR/ks.cfg.",
    options: {
        build: { help: "the build: virtual/<provider>, metal/<host>, or virtual (the defaults); --list shows them", required: true, value: "TYPE/NAME", example: "virtual/aws" },
        os: { help: "an OS that installs with a kickstart; --list shows them", required: true, value: "ID", example: "Rocky-9.8" },
        "ssh-key": { help: "the build's public key for virtual builds (default: keys/packer.pub)", value: "PATH", check: (f: string) => (fs.statSync(f, { throwIfNoEntry: false })?.isFile() ? undefined : `${f} is not a file`) },
        "site-json": { help: "overrides of the site variables, as config `site`", value: "JSON", example: '\'{"repo_server":"http://mirror.example.com"}\'', check: (t: string) => { const r = siteJson(t); return typeof r === "string" ? r : undefined; } },
        proxy: { help: "the installer's HTTP proxy for its repositories (a QEMU build's: http://10.0.2.100:3128)", value: "URL", check: matches(/^http:\/\/[A-Za-z0-9.-]+:[0-9]{1,5}$/, "http://HOST:PORT") },
        out: { help: "write DIR/ks.cfg (a Packer http_directory) and print its path", value: "DIR" },
        list: { help: "print the builds and the OSes with a kickstart, and exit", flag: true, alone: true },
    },
    examples: ["npm run --silent ks -- --build virtual/aws --os Rocky-9.8", "npm run --silent ks -- --build metal/host1 --os Rocky-9.8 --out artifacts/http", "npm run --silent ks -- --list"],
} as const;

runMain(
    PROGRAM,
    () => {
        const { values } = parseOrExit(PROGRAM, SPEC, process.argv.slice(2));
        // Only OSes that install with a kickstart: the others (a base from a disk image) have none to render.
        if (values.list) return `builds: ${listBuilds(providerNames()).join(" ")}\noses: ${listKickstartOses().join(" ")}\n`;
        const site = values["site-json"] === undefined ? undefined : (siteJson(values["site-json"]) as Record<string, unknown>);
        const opts = { providers: providerNames(), build: values.build, os: values.os, sshPublicKeyFile: values["ssh-key"], siteOverrides: site, installProxy: values.proxy };
        return values.out ? writeHttpDirectory(values.out, opts) + "\n" : renderKickstart(opts);
    },
    [UnknownChoiceError, BadNameError],
);
