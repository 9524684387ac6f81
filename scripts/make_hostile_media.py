#!/usr/bin/env python3
"""Writes the crafted media of fixtures/hostile/media/ (issue 13). Standard library only.

Each file is made from a fixture clip or from nothing, and each targets one way a hostile
upload once broke (or could break) the thumbnail generator. Run from the repository root;
the outputs are committed, so this needs to run again only when a case is added.
"""
import struct
import zlib
from pathlib import Path

OUT = Path("fixtures/hostile/media")
CLIP = Path("fixtures/videos/black.mp4").read_bytes()


def mp4_box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body) + 8) + kind + body


def find_box(data: bytes, path: list) -> int:
    """Offset of the box at `path` (e.g. [b"moov", b"trak", ...]) in `data`."""
    offset, end = 0, len(data)
    for depth, kind in enumerate(path):
        while offset + 8 <= end:
            size = struct.unpack(">I", data[offset : offset + 4])[0]
            if data[offset + 4 : offset + 8] == kind:
                if depth == len(path) - 1:
                    return offset
                end = offset + size
                offset += 8
                break
            offset += size
        else:
            raise ValueError(f"no {kind} box")
    raise ValueError("empty path")


STBL = [b"moov", b"trak", b"mdia", b"minf", b"stbl"]


def constant_size_stsz(count: int, size: int) -> bytes:
    """The clip with its stsz rewritten to `count` samples of constant `size` bytes."""
    data = bytearray(CLIP)
    at = find_box(bytes(data), STBL + [b"stsz"])
    struct.pack_into(">II", data, at + 12, size, count)
    return bytes(data)


def fragment_with_samples(count: int) -> bytes:
    """The clip plus a movie fragment whose trun declares `count` samples and no fields."""
    tfhd = mp4_box(b"tfhd", struct.pack(">II", 0, 1))
    trun = mp4_box(b"trun", struct.pack(">II", 0, count))
    return CLIP + mp4_box(b"moof", mp4_box(b"traf", tfhd + trun))


def png(width: int, height: int, pixel=lambda x, y: (x * 7 + y * 13) % 256) -> bytes:
    rows = b"".join(
        b"\x00" + bytes(pixel(x, y) for x in range(width) for _ in range(3))
        for y in range(height)
    )

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height` but holds one row."""
    real = png(1, 1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return real[:16] + header + crc + real[33:]


def heic_claiming(width: int, height: int) -> bytes:
    """The committed sideways HEIC with its `ispe` (image spatial extents) rewritten."""
    data = bytearray((OUT.parent.parent / "images" / "phone-sideways-irot.heic").read_bytes())
    at = data.index(b"ispe")
    # type, version and flags, then width and height.
    data[at + 8:at + 16] = struct.pack(">II", width, height)
    return bytes(data)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    files = {
        "stsz-billions.mp4": constant_size_stsz(0xFFFFFFFF, 1),
        "stsz-zero-size-billions.mp4": constant_size_stsz(0xFFFFFFFF, 0),
        "trun-billions.mp4": fragment_with_samples(0xFFFFFFFF),
        "truncated-moov.mp4": CLIP[: len(CLIP) - 400],
        # The `free` box after ftyp claims nearly 4 GB.
        "box-size-lies.mp4": CLIP[:32] + struct.pack(">I", 0xFFFFFFF0) + CLIP[36:],
        "strip-1x600.png": png(1, 600),
        "strip-600x1.png": png(600, 1),
        "claims-100k-square.png": png_claiming(100_000, 100_000),
        # 145 KB claiming 48 Mpx: a decompression bomb by its header.
        "heic-claims-48mpx.heic": heic_claiming(8064, 6048),
        # A gzip header, then a deflate stream cut short.
        "truncated.gz": __import__("gzip").compress(b"a document " * 200)[:40],
        # Latin-1, not UTF-8: "café crème".
        "latin-1.txt": "café crème".encode("latin-1"),
        "not-media.bin": b"\x00\x01garbage that is no known format" * 10,
    }
    for name, data in files.items():
        (OUT / name).write_bytes(data)
        print(f"{OUT / name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
