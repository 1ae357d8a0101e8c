// What a stage tells its user while it runs: whole lines on stderr, few of them. @pulumi/command
// shows each line as the resource's status in `pulumi up` only once the line ends, and keeps the
// whole of stderr in the stack's state (and hands it to the next run in an environment
// variable): a transfer of gigabytes must say how far it is in about ten lines, not thousands.

export type Log = (line: string) => void;

/** Writes lines to this process's stderr. */
export const stderrLog: Log = (line) => void process.stderr.write(line + "\n");

const KiB = 1024;
const MiB = KiB * 1024;
const GiB = MiB * 1024;

export function formatBytes(n: number): string {
    if (n >= GiB) return `${(n / GiB).toFixed(2)} GiB`;
    if (n >= MiB) return `${(n / MiB).toFixed(1)} MiB`;
    if (n >= KiB) return `${(n / KiB).toFixed(0)} KiB`;
    return `${n} B`;
}

export function formatDuration(seconds: number): string {
    const s = Math.round(seconds);
    if (s < 60) return `${s} s`;
    const pad = (x: number) => String(x).padStart(2, "0");
    if (s < 3600) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
    return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} min`;
}

export interface TransferOptions {
    /** Milliseconds since some origin (tests give a clock of their own). */
    readonly now?: () => number;
    /** Smaller transfers print nothing: they take seconds, and a stage has several small files. */
    readonly minBytes?: number;
    /** Between 10 % steps, a line once this long has passed without one (at a new whole percent). */
    readonly everyMs?: number;
}

export interface Transfer {
    /** Bytes done so far (as the SDK or the stream reports them; never decreasing). */
    update(done: number): void;
    /** The transfer finished: its 100 % line, unless it was printed or nothing moved (a hard link). */
    end(): void;
}

const NONE: Transfer = { update: () => undefined, end: () => undefined };

/**
 * Progress of one transfer of `total` bytes, as lines `WHAT: 40% (38.4 MiB of 96.0 MiB) at
 * 45.2 MiB/s`: one at every 10 % step and, when a step takes longer than `everyMs` (30 s), one
 * at the next whole percent after that. No percent is printed twice, so a transfer prints at
 * most ~100 lines however slow it is, and about 10 when it is quick.
 */
export function transferProgress(log: Log | undefined, what: string, total: number, opts: TransferOptions = {}): Transfer {
    if (!log || total < (opts.minBytes ?? 16 * MiB)) return NONE;
    const now = opts.now ?? Date.now;
    const everyMs = opts.everyMs ?? 30_000;
    const started = now();
    let lastAt = started;
    let lastPercent = 0;
    let done = 0;
    let moved = false;
    const say = (percent: number) => {
        const seconds = Math.max((now() - started) / 1000, 0.001);
        log(`${what}: ${percent}% (${formatBytes(done)} of ${formatBytes(total)}) at ${formatBytes(done / seconds)}/s`);
        lastPercent = percent;
        lastAt = now();
    };
    return {
        update(bytes: number) {
            moved = true;
            done = Math.min(Math.max(done, bytes), total);
            const percent = Math.floor((done * 100) / total);
            if (percent <= lastPercent) return;
            if (Math.floor(percent / 10) > Math.floor(lastPercent / 10) || now() - lastAt >= everyMs) say(percent);
        },
        end() {
            done = total;
            if (moved && lastPercent < 100) say(100);
        },
    };
}
