// CLI over ./page-blob-upload.ts, for the Azure publisher's Command:
//   ts-node components/providers/azure/upload-page-blob.ts upload --file disk.vhd --container C --blob NAME [--concurrency N]
//   ts-node components/providers/azure/upload-page-blob.ts delete --container C --blob NAME
// Credentials: AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY
// (+ AZURE_STORAGE_BLOB_ENDPOINT for Azurite or sovereign clouds). Never printed.
// stdout: one JSON line; stderr: the upload's progress (components/progress.ts). Exit 0 ok, 2 bad input/config, 1 service or I/O failure.
import * as fs from "fs";
import { parseSubcommand } from "../../cli/subcommand";
import { stderrLog, transferProgress } from "../../progress";
import { deletePageBlob, uploadPageBlob, UploadInputError } from "./page-blob-upload";

const USAGE = `usage:
  upload-page-blob.ts upload --file F --container C --blob NAME [--concurrency N]
  upload-page-blob.ts delete --container C --blob NAME`;

const COMMANDS = {
    upload: { required: ["file", "container", "blob"], optional: ["concurrency"] },
    delete: { required: ["container", "blob"], optional: [] },
} as const;

async function main(argv: string[]): Promise<void> {
    const { command, values: v, given: values } = parseSubcommand(argv, COMMANDS, USAGE, (m) => new UploadInputError(m));

    if (command === "delete") {
        process.stdout.write(JSON.stringify(await deletePageBlob(v.container, v.blob)) + "\n");
        return;
    }
    let concurrency: number | undefined;
    if (values.concurrency !== undefined) {
        concurrency = Number(values.concurrency);
        if (!/^\d+$/.test(values.concurrency)) throw new UploadInputError(`--concurrency ${JSON.stringify(values.concurrency)} is not a whole number (1–64)`);
    }
    const meter = transferProgress(stderrLog, `upload ${v.blob}`, fs.statSync(v.file, { throwIfNoEntry: false })?.size ?? 0);
    const result = await uploadPageBlob({ file: v.file, container: v.container, blob: v.blob, concurrency, progress: meter.update });
    meter.end();
    process.stdout.write(JSON.stringify(result) + "\n");
}

main(process.argv.slice(2)).catch((e: unknown) => {
    // Service errors carry the request; print only their message and status, not headers
    // (the Authorization header is a signature, not the key, but keep the output small).
    const err = e as { message?: string; statusCode?: number; code?: string };
    const detail = err.statusCode ? ` (HTTP ${err.statusCode}${err.code ? ", " + err.code : ""})` : "";
    process.stderr.write(`upload-page-blob: ${err.message ?? String(e)}${detail}\n`);
    process.exitCode = e instanceof UploadInputError ? 2 : 1;
});
