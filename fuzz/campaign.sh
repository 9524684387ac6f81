#!/bin/sh
# Runs the two libFuzzer media targets side by side on one machine, each in fork mode over a
# copy of its seed corpus, and leaves logs, crash inputs and the grown corpora in OUT.
#   fuzz/campaign.sh BIN_DIR OUT MP4_JOBS IMAGE_JOBS SECONDS
# BIN_DIR holds the `mp4` and `image` binaries `cargo +nightly fuzz build` made (ASan).
set -u
bins=$1 out=$2 mp4_jobs=$3 image_jobs=$4 seconds=$5
root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$out/mp4/corpus" "$out/image/corpus"
cp "$root"/fixtures/fuzz/mp4/* "$root"/fixtures/videos/*.mp4 "$root"/fixtures/videos/*.mov \
   "$root"/fixtures/hostile/media/*.mp4 "$out/mp4/corpus/" 2>/dev/null
cp "$root"/fixtures/fuzz/image/* "$root"/fixtures/images/*.jpg "$root"/fixtures/images/*.png \
   "$root"/fixtures/images/*.webp "$out/image/corpus/" 2>/dev/null
run() {
    target=$1 jobs=$2
    (cd "$out/$target" && "$bins/$target" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 \
        -ignore_ooms=1 -timeout=25 -rss_limit_mb=2048 -max_total_time="$seconds" \
        -artifact_prefix="$out/$target-" corpus > log.txt 2>&1)
}
run mp4 "$mp4_jobs" &
run image "$image_jobs" &
wait
for target in mp4 image; do
    echo "== $target: $(ls "$out/$target/corpus" | wc -l) corpus files, $(ls "$out" | grep -c "^$target-") artifacts"
    grep -E "^#[0-9]+: cov" "$out/$target/log.txt" | tail -1
    grep -E "SUMMARY|ERROR: (AddressSanitizer|libFuzzer)|panicked at" "$out/$target/log.txt" | sort | uniq -c | head -20
done
