#!/bin/sh
# Regenerates fixtures/videos/ from the CC0 photographs in fixtures/images/ (needs ffmpeg with
# libx264 and libx265; `make test` does not: the clips are committed).
set -eu
cd "$(dirname "$0")/../fixtures"
out=videos
mkdir -p "$out"
ff() { ffmpeg -loglevel error -y "$@"; }

# Portrait 360x640 product clip, 4 s at 30 fps, a keyframe every second: 0.5 s of black,
# 1 s of heavy blur, then the sharp cup slowly zooming, then a fade to black.
ff -f lavfi -i "color=black:s=360x640:r=30:d=0.5" \
   -loop 1 -framerate 30 -t 3.5 -i images/coffee.jpg \
   -filter_complex "[1]scale=360:-2,pad=360:640:0:(oh-ih)/2:color=0x202020,setsar=1,format=yuv420p,split[a][b];\
[a]trim=0:1,boxblur=12:4[blurred];[b]trim=1:3.5,setpts=PTS-STARTPTS,zoompan=z='1+0.002*on':d=1:s=360x640:fps=30,fade=out:st=2.1:d=0.4[sharp];\
[0]format=yuv420p[black];[black][blurred][sharp]concat=n=3:v=1[v]" \
   -map "[v]" -c:v libx264 -profile:v high -g 30 -crf 26 -pix_fmt yuv420p -movflags +faststart "$out/cup-portrait.mp4"

# The same scene with a single keyframe (the encoder's default GOP is longer than the clip).
ff -i "$out/cup-portrait.mp4" -c:v libx264 -profile:v main -g 1000 -crf 28 "$out/cup-one-keyframe.mp4"

# A person, landscape, baseline profile, in a QuickTime container.
ff -loop 1 -framerate 25 -t 2 -i images/astronaut.jpg -vf "scale=640:-2,format=yuv420p" \
   -c:v libx264 -profile:v baseline -g 25 -crf 28 "$out/astronaut.mov"

# HEVC (hvc1), 1 s with one keyframe (x265's default GOP is longer): decoded in order.
ff -loop 1 -framerate 25 -t 1 -i images/coffee.jpg -vf "scale=320:-2,format=yuv420p" \
   -c:v libx265 -x265-params log-level=error -tag:v hvc1 "$out/cup-hevc.mp4"

# HEVC as an iPhone records SDR video: 1080x1920 portrait, BT.709 tagged (colr), B-frames, a
# keyframe a second (3 s: sampled from its keyframes).
ff -loop 1 -framerate 30 -t 3 -i images/coffee.jpg \
   -vf "scale=1080:-2,pad=1080:1920:0:(oh-ih)/2:color=0x202020,setsar=1,zoompan=z='1+0.002*on':d=1:s=1080x1920:fps=30,format=yuv420p" \
   -c:v libx265 -preset fast -crf 34 -x265-params "log-level=error:keyint=30:min-keyint=30:scenecut=0" \
   -colorspace bt709 -color_primaries bt709 -color_trc bt709 -color_range tv -tag:v hvc1 -movflags +faststart "$out/cup-hevc-1080p.mp4"

# AV1: demuxed and named, then refused as unsupported.
ff -loop 1 -framerate 25 -t 1 -i images/coffee.jpg -vf "scale=320:-2,format=yuv420p" \
   -c:v libaom-av1 -cpu-used 8 -crf 50 "$out/cup-av1.mp4"

# 4K portrait as phones record by default (2160x3840, 4 s at 30 fps, a keyframe a second).
ff -loop 1 -framerate 30 -t 4 -i images/coffee.jpg \
   -vf "scale=2160:-2,pad=2160:3840:0:(oh-ih)/2:color=0x202020,setsar=1,zoompan=z='1+0.001*on':d=1:s=2160x3840:fps=30,format=yuv420p" \
   -c:v libx264 -profile:v high -level 5.1 -g 30 -crf 32 -preset veryfast -pix_fmt yuv420p -movflags +faststart "$out/cup-4k-portrait.mp4"

# 5 s with a keyframe every 2 s (3 keyframes, no scene-cut keyframes): sampled from its
# keyframes, not decoded frame by frame.
ff -loop 1 -framerate 30 -t 5 -i images/coffee.jpg \
   -vf "scale=360:-2,pad=360:640:0:(oh-ih)/2:color=0x202020,setsar=1,zoompan=z='1+0.002*on':d=1:s=360x640:fps=30,format=yuv420p" \
   -c:v libx264 -profile:v high -g 60 -keyint_min 60 -sc_threshold 0 -crf 30 -pix_fmt yuv420p -movflags +faststart "$out/cup-5s-gop2s.mp4"

# One solid colour (200, 50, 20), 64x64, with the VUI naming its matrix and range: BT.709
# limited, BT.709 full and BT.601 limited.
ff -f lavfi -i "color=c=0xC83214:s=64x64:r=25:d=1" -vf "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p" \
   -colorspace bt709 -color_primaries bt709 -color_trc bt709 -color_range tv -c:v libx264 -g 25 "$out/colour-709-limited.mp4"
ff -f lavfi -i "color=c=0xC83214:s=64x64:r=25:d=1" -vf "scale=out_color_matrix=bt709:out_range=pc,format=yuvj420p" \
   -colorspace bt709 -color_primaries bt709 -color_trc bt709 -color_range pc -c:v libx264 -g 25 "$out/colour-709-full.mp4"
ff -f lavfi -i "color=c=0xC83214:s=64x64:r=25:d=1" -vf "scale=out_color_matrix=bt601:out_range=tv,format=yuv420p" \
   -colorspace smpte170m -color_primaries smpte170m -color_trc smpte170m -color_range tv -c:v libx264 -g 25 "$out/colour-601-limited.mp4"

# The same colour as HEVC, tagged in the sample entry's `colr` box: BT.709 limited 8-bit, and
# as an iPhone records HDR video by default (Main 10, BT.2020 matrix, HLG transfer).
ff -f lavfi -i "color=c=0xC83214:s=64x64:r=25:d=1" -vf "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p" \
   -colorspace bt709 -color_primaries bt709 -color_trc bt709 -color_range tv -c:v libx265 -x265-params "log-level=error:keyint=25" -tag:v hvc1 "$out/colour-hevc-709-limited.mp4"
ff -f lavfi -i "color=c=0xC83214:s=64x64:r=25:d=1" -vf "scale=out_color_matrix=bt2020:out_range=tv,format=yuv420p10le" \
   -colorspace bt2020nc -color_primaries bt2020 -color_trc arib-std-b67 -color_range tv -c:v libx265 -profile:v main10 -x265-params "log-level=error:keyint=25" -tag:v hvc1 "$out/colour-hevc-2020-10bit.mp4"

# Only black frames.
ff -f lavfi -i "color=black:s=320x240:r=25:d=1" -c:v libx264 -g 25 -pix_fmt yuv420p "$out/black.mp4"

# The first 40 % of a clip: the moov atom is at the front (faststart), the media is cut.
size=$(wc -c < "$out/cup-portrait.mp4")
head -c $((size * 2 / 5)) "$out/cup-portrait.mp4" > "$out/cup-truncated.mp4"
ls -l "$out"
