#!/bin/sh
# Regenerates the HEIC stills in fixtures/images/ from coffee.jpg (needs ffmpeg, python3 with
# network access to PyPI, and cargo; `make test` does not: the files are committed).
#   phone-12mpx-grid.heic     4032x3024 as a grid of 48 tiles of 512x512 (as iPhones write
#                             them), by heifer (scripts/heic-grid)
#   phone-48mpx-grid.heic     8064x6048 ("HEIF Max"), 192 tiles, quality 70 so that it carries
#                             more than a byte per 200 pixels, as real ones do (not a bomb)
#   phone-sideways-irot.heic  coded 2016x1512 with an `irot` turning it to 1512x2016, by
#                             libheif (pillow-heif) from a JPEG carrying EXIF orientation 6
#   *.libheif.png             each as libheif decodes it (transforms applied), at 1/16 size
#                             (48 Mpx: 1/32): the independent reference the HEIC tests
#                             compare with
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
ff() { ffmpeg -loglevel error -y "$@"; }

ff -i "$root/fixtures/images/coffee.jpg" -vf scale=4032:3024:flags=bicubic "$tmp/upright.png"
cargo run --quiet --release --manifest-path "$root/scripts/heic-grid/Cargo.toml" -- \
    "$tmp/upright.png" "$root/fixtures/images/phone-12mpx-grid.heic" 50
ff -i "$root/fixtures/images/coffee.jpg" -vf scale=8064:6048:flags=bicubic "$tmp/upright48.png"
cargo run --quiet --release --manifest-path "$root/scripts/heic-grid/Cargo.toml" -- \
    "$tmp/upright48.png" "$root/fixtures/images/phone-48mpx-grid.heic" 70

# A small grid (two 512x512 tiles across) to seed the `image` fuzz target.
ff -i "$root/fixtures/images/coffee.jpg" -vf scale=640:424 "$tmp/small.png"
cargo run --quiet --release --manifest-path "$root/scripts/heic-grid/Cargo.toml" -- \
    "$tmp/small.png" "$root/fixtures/fuzz/image/grid-2x1.heic" 30

ff -i "$root/fixtures/images/coffee.jpg" -vf scale=2016:1512:flags=bicubic,transpose=2 -q:v 4 "$tmp/sideways.jpg"
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet pillow-heif==1.9.0
"$tmp/venv/bin/python" - "$tmp/sideways.jpg" "$root/fixtures/images/phone-sideways-irot.heic" <<'PY'
import sys
from PIL import Image
import pillow_heif

source, target = sys.argv[1], sys.argv[2]
image = Image.open(source)
exif = image.getexif()
exif[0x0112] = 6  # Orientation: the stored picture is turned 90° anticlockwise
# pillow-heif keeps the stored pixels and writes the orientation as `irot`.
pillow_heif.from_pillow(image).save(target, quality=50, exif=exif.tobytes())
PY
"$tmp/venv/bin/python" - "$root/fixtures/images" <<'PY'
import sys
from PIL import Image
import pillow_heif

pillow_heif.register_heif_opener()
folder = sys.argv[1]
for name, shrink in [("phone-12mpx-grid", 16), ("phone-sideways-irot", 16), ("phone-48mpx-grid", 32)]:
    image = Image.open(f"{folder}/{name}.heic").convert("RGB")
    small = image.resize((image.width // shrink, image.height // shrink), Image.Resampling.BOX)
    small.save(f"{folder}/{name}.libheif.png", optimize=True)
PY
ls -l "$root/fixtures/images/"*.heic "$root/fixtures/images/"*.libheif.png
