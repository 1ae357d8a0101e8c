import * as pulumi from "@pulumi/pulumi";
import type { PublishArgs } from "../providers";
import type { StoredStage } from "../stages/stage-command";
import type { StoreSpec } from "../store";

/**
 * A published image's name: OS, version and the artifact's checksum, so several version
 * stacks coexist in one account and a replacement never collides with what it replaces.
 */
export function imageName(vmName: string, version: string, sha256: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.output(sha256).apply((sha) => imageTitle(vmName, version, sha));
}

/** The same name, of a known checksum (for the length checks before anything runs). */
export function imageTitle(vmName: string, version: string, sha256: string): string {
    return `${vmName}-${version}-${sha256.slice(0, 12)}`;
}

/** What every publisher receives from its stages. */
export interface PublishInputs {
    /** OS id (vm_name), e.g. CentOS-7.3.1611. */
    readonly vmName: string;
    readonly version: string;
    /** The stage whose artifact is published (found in the store by its fingerprint). */
    readonly stage: StoredStage;
    /** The artifact store (config artifactStore). */
    readonly store: StoreSpec;
    /** The artifact's sha256: part of published names. */
    readonly sha256: pulumi.Output<string>;
    /** Published without a first-boot test (config firstBoot "skip-unsafe"). */
    readonly untested: boolean;
}

/** The mark of an image published without its first-boot test (config firstBoot "skip-unsafe"). */
export const UNTESTED_MARK = "gold-untested";

/** The marks a published image carries as tags or labels (the untested mark, when it is). */
export function marks(i: PublishInputs): Record<string, string> {
    return i.untested ? { [UNTESTED_MARK]: "true" } : {};
}

/** The PublishInputs of a provider's publish arguments. */
export function publishInputs(a: PublishArgs<unknown>): PublishInputs {
    return { vmName: a.os.vm_name, version: a.version, stage: a.stage, store: a.store, sha256: a.stage.sha256, untested: a.untested };
}
