#!/bin/sh
# Builds the libFuzzer targets (cargo-fuzz, nightly) with AddressSanitizer over the Rust code
# and AddressSanitizer plus trapping UBSan over openh264's C++, which clang instruments for
# coverage too. The C/C++ flags reach every crate that builds C through `cc`, libfuzzer-sys's
# copy of libFuzzer included, and libFuzzer instrumented for coverage recurses into itself
# (stack overflow at the first comparison): so libFuzzer is built once here without them and
# handed to libfuzzer-sys through CUSTOM_LIBFUZZER_PATH.
set -eu
cd "$(dirname "$0")"
manifest=$(cargo +nightly metadata --format-version 1 |
    python3 -c 'import json,sys; print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"] == "libfuzzer-sys"))')
source="$(dirname "$manifest")/libfuzzer"
objects=target/libfuzzer-plain
mkdir -p "$objects"
if [ ! -f "$objects/libfuzzer.a" ]; then
    ls "$source"/*.cpp | xargs -P "$(nproc)" -I{} sh -c \
        'clang++ -c -O2 -g -std=c++17 -fno-omit-frame-pointer -fPIC "$1" -o "$2/$(basename "$1" .cpp).o"' _ {} "$objects"
    ar rcs "$objects/libfuzzer.a" "$objects"/*.o
fi
flags="-fsanitize=address,undefined -fsanitize-trap=undefined -fno-sanitize=vptr -fsanitize=fuzzer-no-link -g"
CUSTOM_LIBFUZZER_PATH="$PWD/$objects/libfuzzer.a" CC=clang CXX=clang++ CFLAGS="$flags" CXXFLAGS="$flags" \
    cargo +nightly fuzz build -O --debug-assertions "$@"
