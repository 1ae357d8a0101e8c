// components/progress.ts with a clock of the test's own: how many lines a transfer prints, and when.
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatBytes, formatDuration, transferProgress } from "../../components/progress";

const MiB = 1024 * 1024;

/** A transfer of `total` bytes driven by (milliseconds, bytes done) steps; its lines. */
function drive(total: number, steps: [number, number][], opts: { minBytes?: number } = {}): string[] {
    const lines: string[] = [];
    let t = 0;
    const meter = transferProgress((l) => lines.push(l), "upload disk.img", total, { now: () => t, ...opts });
    for (const [ms, done] of steps) {
        t = ms;
        meter.update(done);
    }
    meter.end();
    return lines;
}

const percents = (lines: string[]) => lines.map((l) => Number(/: (\d+)% /.exec(l)![1]));

test("a quick transfer: a line at every 10 % step, whatever the SDK's granularity", () => {
    // 1000 updates of 100 KiB within 10 s: ten lines, the last at 100 %.
    const total = 1000 * 100 * 1024;
    const lines = drive(total, Array.from({ length: 1000 }, (_, i) => [i * 10, (i + 1) * 100 * 1024] as [number, number]));
    assert.deepEqual(percents(lines), [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    assert.equal(lines[0], "upload disk.img: 10% (9.8 MiB of 97.7 MiB) at 9.9 MiB/s");
    assert.match(lines[9], /^upload disk\.img: 100% \(97\.7 MiB of 97\.7 MiB\) at 9\.8 MiB\/s$/);
    // Parts of 64 MiB (S3 in Node): a line per part, at the percent it reached.
    assert.deepEqual(percents(drive(160 * MiB, [[1000, 64 * MiB], [2000, 128 * MiB], [2500, 160 * MiB]])), [40, 80, 100]);
});

test("a slow transfer: between 10 % steps, one line after 30 s at the next whole percent; never the same percent twice", () => {
    const total = 1000 * MiB;
    // 1 % a minute: a line every minute (each new percent comes 30 s or more after the last line).
    const slow = drive(total, Array.from({ length: 100 }, (_, i) => [(i + 1) * 60_000, (i + 1) * 10 * MiB] as [number, number]));
    assert.deepEqual(percents(slow), Array.from({ length: 100 }, (_, i) => i + 1));
    // 1 % every 20 s: the 10 % steps, and a line at the first new percent once 30 s have passed.
    const medium = percents(drive(total, Array.from({ length: 100 }, (_, i) => [(i + 1) * 20_000, (i + 1) * 10 * MiB] as [number, number])));
    assert.deepEqual(medium.slice(0, 6), [2, 4, 6, 8, 10, 12]);
    // Stalled: the same bytes again and again print nothing more, however long it takes.
    assert.deepEqual(percents(drive(total, [[1000, 55 * MiB], ...Array.from({ length: 50 }, (_, i) => [(i + 2) * 60_000, 55 * MiB] as [number, number])])), [5, 100]);
});

test("nothing for a small file, nor for a transfer that moved nothing (a hard link); a 100 % line only once", () => {
    assert.deepEqual(drive(15 * MiB, [[1, 15 * MiB]]), []);
    assert.deepEqual(drive(20 * MiB, []), []);
    const exact = drive(20 * MiB, [[1, 20 * MiB]]);
    assert.deepEqual(percents(exact), [100]);
    assert.deepEqual(percents(drive(1000, [[1, 500], [2, 1000]], { minBytes: 0 })), [50, 100]);
});

test("sizes and durations as people read them", () => {
    assert.deepEqual([500, 2048, 96 * MiB + MiB / 2, 3 * 1024 * MiB].map(formatBytes), ["500 B", "2 KiB", "96.5 MiB", "3.00 GiB"]);
    assert.deepEqual([4.4, 59.6, 185, 7260].map(formatDuration), ["4 s", "1 min 00 s", "3 min 05 s", "2 h 01 min"]);
});
