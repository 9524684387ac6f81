#!/bin/sh
# Runs libFuzzer targets side by side on one machine, each in fork mode over a copy of its
# seed corpus, and leaves logs, crash inputs and the grown corpora in OUT.
#   fuzz/campaign.sh BIN_DIR OUT SECONDS TARGET:JOBS...    e.g. ... 3600 mp4:1 caption:1
# BIN_DIR holds the binaries `cargo +nightly fuzz build` made (ASan). Targets named together
# run at once; run the script again for the next group.
set -u
bins=$1 out=$2 seconds=$3
shift 3
root="$(cd "$(dirname "$0")/.." && pwd)"
seed() {
    target=$1
    mkdir -p "$out/$target/corpus"
    cp "$root"/fixtures/fuzz/"$target"/* "$out/$target/corpus/" 2>/dev/null
    case $target in
    mp4) cp "$root"/fixtures/videos/*.mp4 "$root"/fixtures/videos/*.mov \
            "$root"/fixtures/hostile/media/*.mp4 "$out/$target/corpus/" 2>/dev/null ;;
    image) cp "$root"/fixtures/images/*.jpg "$root"/fixtures/images/*.png \
            "$root"/fixtures/images/*.webp "$root"/fixtures/images/phone-sideways-irot.heic \
            "$out/$target/corpus/" 2>/dev/null ;;
    esac
}
run() {
    target=$1 jobs=$2
    (cd "$out/$target" && "$bins/$target" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 \
        -ignore_ooms=1 -timeout=25 -rss_limit_mb=2048 -max_total_time="$seconds" \
        -artifact_prefix="$out/$target-" corpus > log.txt 2>&1
        # The second line of `times` is the CPU time of the children: libFuzzer and its forks
        # (not through a pipe, whose subshell has no children).
        times > cpu.txt)
}
for pair in "$@"; do
    seed "${pair%:*}"
    run "${pair%:*}" "${pair#*:}" &
done
wait
for pair in "$@"; do
    target=${pair%:*}
    echo "== $target: $(ls "$out/$target/corpus" | wc -l) corpus files, $(ls "$out" | grep -c "^$target-") artifacts"
    echo "CPU time (user, system): $(tail -1 "$out/$target/cpu.txt")"
    grep -E "^#[0-9]+: cov" "$out/$target/log.txt" | tail -1
    grep -E "SUMMARY|ERROR: (AddressSanitizer|libFuzzer)|panicked at" "$out/$target/log.txt" | sort | uniq -c | head -20
done
