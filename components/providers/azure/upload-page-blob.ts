// CLI over ./page-blob-upload.ts, for the Azure publisher's Command:
//   ts-node components/providers/azure/upload-page-blob.ts upload --file disk.vhd --container C --blob NAME [--concurrency N]
//   ts-node components/providers/azure/upload-page-blob.ts delete --container C --blob NAME
// Credentials: AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY
// (+ AZURE_STORAGE_BLOB_ENDPOINT for Azurite or sovereign clouds). Never printed.
// stdout: one JSON line; stderr: the upload's progress (components/progress.ts). Exit 0 ok, 2 bad input/config, 1 service or I/O failure.
import * as fs from "fs";
import { matches, parseSubcommandOrExit, runMain } from "../../cli/args";
import { stderrLog, transferProgress } from "../../progress";
import { deletePageBlob, uploadPageBlob, UploadInputError } from "./page-blob-upload";

const RUN = "ts-node components/providers/azure/upload-page-blob.ts";
const PROGRAM = {
    name: "upload-page-blob",
    run: RUN,
    summary: "Uploads a fixed VHD to Azure as a page blob (only its non-zero ranges), or deletes one; prints one JSON line.",
    examples: [`${RUN} upload --file disk.vhd --container images --blob rocky9.vhd`],
};
const container = { help: "the blob container", required: true, value: "C" } as const;
const blob = { help: "the blob's name", required: true, value: "NAME" } as const;
const COMMANDS = {
    upload: {
        summary: "uploads the file (a fixed VHD: a multiple of 512 bytes)",
        options: {
            file: { help: "the VHD to upload", required: true, value: "F" },
            container,
            blob,
            concurrency: { help: "ranges sent at once (1-64)", value: "N", check: matches(/^\d+$/, "a whole number (1-64)") },
        },
        examples: PROGRAM.examples,
    },
    delete: {
        summary: "deletes the blob (nothing to delete is no error)",
        options: { container, blob },
        examples: [`${RUN} delete --container images --blob rocky9.vhd`],
    },
} as const;

async function main(): Promise<unknown> {
    const a = parseSubcommandOrExit(PROGRAM, COMMANDS, process.argv.slice(2));
    try {
        if (a.command === "delete") return await deletePageBlob(a.values.container, a.values.blob);
        const v = a.values;
        const meter = transferProgress(stderrLog, `upload ${v.blob}`, fs.statSync(v.file, { throwIfNoEntry: false })?.size ?? 0);
        const result = await uploadPageBlob({ file: v.file, container: v.container, blob: v.blob, concurrency: v.concurrency === undefined ? undefined : Number(v.concurrency), progress: meter.update });
        meter.end();
        return result;
    } catch (e) {
        // Service errors carry the request; print only their message and status, not headers
        // (the Authorization header is a signature, not the key, but keep the output small).
        const err = e as { message?: string; statusCode?: number; code?: string };
        if (!err.statusCode) throw e;
        throw new Error(`${err.message ?? String(e)} (HTTP ${err.statusCode}${err.code ? ", " + err.code : ""})`);
    }
}

runMain(PROGRAM, main, [UploadInputError]);
