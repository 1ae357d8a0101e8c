#!/usr/bin/env bash
# `npm test`: every suite, the fast ones beside the end-to-end test. The end-to-end test's time is
# emulated guests (at most two at once) and debootstrap's downloads; the unit and validate suites
# (about 11 minutes alone) share the CPU with it instead of adding their minutes before it, at
# the same priority: at nice 19 a loaded machine starved them for minutes (servers that did not
# start, stops that looked unbounded). Each fast suite writes to its own log (its failures are
# printed when it ends), so the end-to-end test's lines stay readable. Fails when any suite fails, after all have ended.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

logs=artifacts/test-logs
mkdir -p "$logs"

fast() {
    local suite
    # The type check too: the end-to-end test runs the sources (ts-node) and need not wait for it.
    for suite in build test:unit validate; do
        if npm run --silent "$suite" >"$logs/$suite.log" 2>&1; then
            local summary
            summary=$(grep -E '^# (pass|skipped|duration_ms) ' "$logs/$suite.log" | tr -d '#' | xargs)
            echo "== npm run $suite: passed (${summary:+$summary; }log: $logs/$suite.log)"
        else
            # The failing tests first, each with its error (CI may show only part of a long log).
            echo "== npm run $suite: FAILED; the failing tests, then the summary (whole log: $logs/$suite.log)"
            awk '/^ *not ok /{p=1} p{print} p && /^ *\.\.\.$/{p=0}' "$logs/$suite.log" | head -n 400
            # (tsc's errors are not TAP: its log's end.)
            grep -E '^# (tests|pass|fail|skipped|duration_ms) ' "$logs/$suite.log" || tail -n 60 "$logs/$suite.log"
            return 1
        fi
    done
}

fast &
fast_pid=$!
# Ctrl-C or a kill of this script stops every suite (the whole process group).
trap 'trap - INT TERM; kill 0' INT TERM

npm run --silent e2e
e2e=$?
wait "$fast_pid"
fast_rc=$?

echo "== build + unit + validate: $([ "$fast_rc" = 0 ] && echo passed || echo FAILED); end-to-end: $([ "$e2e" = 0 ] && echo passed || echo FAILED)"
[ "$fast_rc" = 0 ] && [ "$e2e" = 0 ]
