#!/bin/sh
# Media for `make bench` (thumbnail-generator), written to target/bench-media/ (not
# committed; needs ffmpeg with libx264, e.g. `apt-get install ffmpeg`):
#   clip-720x1280-15s.mp4  15 s portrait H.264 High, 30 fps, 2 s GOP, CRF 23 with film
#                          grain (about 2 Mbit/s, like a re-encoded social clip)
#   photo-1920x1080.jpg    a 1080p JPEG
set -eu
cd "$(dirname "$0")/.."
out=target/bench-media
mkdir -p "$out"
command -v ffmpeg >/dev/null || { echo "ffmpeg is needed for the thumbnail benchmark media" >&2; exit 1; }
if [ ! -f "$out/clip-720x1280-15s.mp4" ]; then
  ffmpeg -loglevel error -y -loop 1 -framerate 30 -t 15 -i fixtures/images/coffee.jpg \
    -loop 1 -framerate 30 -t 15 -i fixtures/images/astronaut.jpg \
    -filter_complex "[0]scale=-2:1280,crop=720:1280:'(iw-720)*t/15':0,setsar=1[a];\
[1]scale=1280:1280,crop=720:1280:'(iw-720)*(1-t/15)':0,setsar=1[b];\
[a]trim=0:8,setpts=PTS-STARTPTS[a8];[b]trim=8:15,setpts=PTS-STARTPTS[b7];\
[a8][b7]concat=n=2:v=1,noise=alls=6:allf=t,format=yuv420p[v]" \
    -map "[v]" -c:v libx264 -profile:v high -preset medium -crf 23 -g 60 -movflags +faststart \
    "$out/clip-720x1280-15s.mp4"
fi
if [ ! -f "$out/photo-1920x1080.jpg" ]; then
  ffmpeg -loglevel error -y -i fixtures/images/astronaut.jpg \
    -vf "scale=1920:1920,crop=1920:1080:0:300" -q:v 3 "$out/photo-1920x1080.jpg"
fi
ls -l "$out"
