#!/bin/sh
# Media for `make bench` and `make bench-growth` (thumbnail-generator), written to
# target/bench-media/ (not committed; needs ffmpeg with libx264, e.g. `apt-get install ffmpeg`):
#   clip-720x1280-{5,15,60}s.mp4  portrait H.264 High, 30 fps, 2 s GOP, CRF 23 with film
#                                 grain (about 2 Mbit/s, like a re-encoded social clip): a pan
#                                 over one photo for the first half, another for the second
#   photo-{960x540,1920x1080,3840x2160,4032x3024,6000x4000,8064x6048}.jpg  0.5 to 48 Mpx JPEGs
#   phone-{720x1280,1080x1920,2160x3840}-4s.mp4  4 s portrait clips, 1 s GOP (720p, 1080p, 4K)
#   hevc-{720x1280,1080x1920,2160x3840}-4s.mp4   the same clips as HEVC (x265, 1 s GOP)
#   photo-{4032x3024,5712x4284,8064x6048}.heic    12, 24 and 48 Mpx HEIC grids of 512x512 tiles,
#                                                 as iPhones write them (scripts/heic-grid, cargo)
set -eu
cd "$(dirname "$0")/.."
out=target/bench-media
mkdir -p "$out"
command -v ffmpeg >/dev/null || { echo "ffmpeg is needed for the thumbnail benchmark media" >&2; exit 1; }

clip() {
  seconds=$1
  half=$((seconds / 2 + 1))
  file="$out/clip-720x1280-${seconds}s.mp4"
  [ -f "$file" ] && return
  ffmpeg -loglevel error -y -loop 1 -framerate 30 -t "$seconds" -i fixtures/images/coffee.jpg \
    -loop 1 -framerate 30 -t "$seconds" -i fixtures/images/astronaut.jpg \
    -filter_complex "[0]scale=-2:1280,crop=720:1280:'(iw-720)*t/$seconds':0,setsar=1[a];\
[1]scale=1280:1280,crop=720:1280:'(iw-720)*(1-t/$seconds)':0,setsar=1[b];\
[a]trim=0:$half,setpts=PTS-STARTPTS[a1];[b]trim=$half:$seconds,setpts=PTS-STARTPTS[b2];\
[a1][b2]concat=n=2:v=1,noise=alls=6:allf=t,format=yuv420p[v]" \
    -map "[v]" -c:v libx264 -profile:v high -preset medium -crf 23 -g 60 -movflags +faststart \
    "$file"
}

photo() {
  width=$1
  height=$2
  file="$out/photo-${width}x${height}.jpg"
  [ -f "$file" ] && return
  ffmpeg -loglevel error -y -i fixtures/images/astronaut.jpg \
    -vf "scale=$width:$width,crop=$width:$height:0:$((width * 5 / 32))" -q:v 3 "$file"
}

# Phone-sized portrait clips: 4 s at 30 fps, a keyframe a second, as phones record.
phone_clip() {
  width=$1
  height=$2
  file="$out/phone-${width}x${height}-4s.mp4"
  [ -f "$file" ] && return
  ffmpeg -loglevel error -y -loop 1 -framerate 30 -t 4 -i fixtures/images/coffee.jpg \
    -vf "scale=-2:$height,crop=$width:$height,noise=alls=6:allf=t,format=yuv420p" \
    -c:v libx264 -profile:v high -preset veryfast -crf 23 -g 30 -movflags +faststart "$file"
}

for seconds in 5 15 60; do clip "$seconds"; done
for size in "960 540" "1920 1080" "3840 2160" "4032 3024" "6000 4000" "8064 6048"; do photo $size; done
for size in "720 1280" "1080 1920" "2160 3840"; do phone_clip $size; done

# The phone clips as an iPhone records by default: HEVC.
for size in 720x1280 1080x1920 2160x3840; do
  file="$out/hevc-$size-4s.mp4"
  [ -f "$file" ] && continue
  ffmpeg -loglevel error -y -i "$out/phone-$size-4s.mp4" -c:v libx265 -preset ultrafast \
    -x265-params "log-level=error:keyint=30:min-keyint=30:scenecut=0" -tag:v hvc1 "$file"
done

# HEIC stills from the JPEGs: 12 Mpx, the 24 Mpx an iPhone 15 writes (5712x4284) and its
# 48 Mpx "HEIF Max".
for size in 4032x3024 5712x4284 8064x6048; do
  file="$out/photo-$size.heic"
  [ -f "$file" ] && continue
  ffmpeg -loglevel error -y -i "$out/photo-6000x4000.jpg" -vf "scale=${size%x*}:${size#*x}" "$out/photo-$size.png"
  cargo run --quiet --release --manifest-path scripts/heic-grid/Cargo.toml -- \
    "$out/photo-$size.png" "$file" 80
  rm "$out/photo-$size.png"
done
ls -l "$out"
