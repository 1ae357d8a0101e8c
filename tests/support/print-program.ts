// Runs index.ts of this tree under the SDK's mocks with the stack config in GOLD_TEST_CONFIG
// (JSON) and prints one JSON line: {ok, registered: [{type, name}], images} or {ok: false, error}.
// Used to run the program of a scratch copy of the repository (tests/validate/add-provider.test.ts).
import { installMocks, settled, valueOf } from "./program";

async function main(): Promise<void> {
    installMocks(process.env.GOLD_TEST_STACK ?? "1.0.0", JSON.parse(process.env.GOLD_TEST_CONFIG ?? "{}"));
    let program: { images: unknown };
    try {
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        program = require("../../index");
    } catch (e) {
        process.stdout.write(JSON.stringify({ ok: false, error: (e as Error).message }) + "\n");
        return;
    }
    const images = await valueOf(program.images as never);
    const registered = (await settled()).map((r) => ({ type: r.type, name: r.name }));
    process.stdout.write(JSON.stringify({ ok: true, registered, images }) + "\n");
}

main().catch((e) => {
    process.stdout.write(JSON.stringify({ ok: false, error: String(e?.message ?? e) }) + "\n");
});
