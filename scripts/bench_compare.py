#!/usr/bin/env python3
"""`make bench-compare`: postlens side by side with the Python tools users would pick instead,
on the same inputs, on the same core, interleaved, with the ratios in one table.

    scripts/bench_compare.py [--rounds 5] [--reps 3] [--core 0]

Two long-lived servers answer JSON-lines timing requests: `postlens bench-serve` (release
build) and scripts/bench_peers.py in a venv of its own (sentence-transformers on PyTorch,
onnxruntime, llama-cpp-python, transformers), both under `taskset -c CORE`, one thread each.
Each model is loaded and run once untimed first. Then every round runs each comparison on both
sides, postlens first in even rounds and the peer first in odd ones, so drifting noise (the
other vCPU's neighbours, frequency) falls on both alike. Only work both sides do is timed;
inputs are prepared outside the timed region (the detector's letterboxed frame is written by
postlens and read by onnxruntime, so both run on the same values). The table gives medians
over all rounds and reps, and peer / postlens (above 1: postlens is faster).

Writes target/bench-compare/results.json and results.md. Needs ffmpeg (apt) for the media.
The peers' venv lives under $POSTLENS_CACHE (default ~/.cache/postlens), keyed by the hash
of scripts/requirements-peers.txt; llama-cpp-python is built from source there (a few
minutes once); if it does not build, its rows say so and the rest still run.
"""

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("POSTLENS_CACHE", Path.home() / ".cache" / "postlens"))
REQUIREMENTS = ROOT / "scripts" / "requirements-peers.txt"
LLAMA_CPP = "llama-cpp-python==0.3.36"
OUT = ROOT / "target" / "bench-compare"
MEDIA = ROOT / "target" / "bench-media"
CLIP = MEDIA / "clip-720x1280-15s.mp4"
SLOPOSCOPE = ROOT.parent / "shared" / "data" / "sloposcope" / "examples"
# The figure for Sloposcope (spaCy + transformer models per text); it cannot run here:
# it is not on PyPI and its spaCy model downloads from GitHub, which this machine cannot reach.
SLOPOSCOPE_PUBLISHED_S = (4.0, 10.0)


def log(message):
    print(message, file=sys.stderr, flush=True)


def run(command, **kwargs):
    log("+ " + " ".join(str(c) for c in command))
    subprocess.run(command, check=True, **kwargs)


def peers_venv():
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + LLAMA_CPP.encode()).hexdigest()[:12]
    venv = CACHE / f"peers-venv-{digest}"
    python = venv / "bin" / "python"
    ready = venv / ".ready"
    if not ready.exists():
        run([sys.executable, "-m", "venv", "--clear", str(venv)])
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        run(pip + ["-r", str(REQUIREMENTS)])
        # Source only on PyPI: builds llama.cpp with CMake (fetched by pip) for this CPU.
        built = subprocess.run(pip + [LLAMA_CPP], capture_output=True, text=True)
        (venv / "llama-cpp-build.log").write_text(built.stdout + built.stderr)
        ready.write_text("llama-cpp-python: " + ("built" if built.returncode == 0 else "failed"))
    return python, ready.read_text()


def yolox_onnx():
    """The untouched ONNX graph from the wheel `make models` verified (models/ keeps only the
    converted safetensors)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import models as model_fetch

    spec = next(p for p in model_fetch.PACKAGES if p["dest"] == "yolox-nano")
    member = next(m for m, name in spec["files"].items() if name.endswith(".onnx"))
    onnx = OUT / "yolox_nano.onnx"
    with zipfile.ZipFile(model_fetch.cached_wheel(spec)) as wheel:
        onnx.write_bytes(wheel.read(member))
    return onnx


def prepare_media():
    run([str(ROOT / "scripts" / "make_bench_media.sh")], stdout=subprocess.DEVNULL)
    frames = []
    for second in (1, 7, 12):
        path = OUT / f"frame-{second}s.rgb"
        if not path.exists():
            run(["ffmpeg", "-loglevel", "error", "-y", "-ss", str(second), "-i", str(CLIP),
                 "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", str(path)])
        frames.append({"rgb": str(path), "width": 720, "height": 1280})
    return frames


def thousand_word_documents():
    """Two 1,000-word documents from Sloposcope's own examples (AI-styled and human)."""
    groups = {
        "AI-styled": ["ai_slop", "corporate_slop", "extreme_ai_slop", "technical_writing"],
        "human": ["human_news", "famous_speech", "creative_writing", "simple_human"],
    }
    documents = []
    for names in groups.values():
        words = []
        while len(words) < 1000:
            for name in names:
                words.extend((SLOPOSCOPE / f"{name}.txt").read_text().split())
        documents.append(" ".join(words[:1000]))
    return documents


class Server:
    """A pinned process answering one JSON line per request line."""

    def __init__(self, name, command, core):
        self.name = name
        env = dict(os.environ, CANDLE_NUM_THREADS="1", RAYON_NUM_THREADS="1",
                   OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false",
                   HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TQDM_DISABLE="1")
        self.process = subprocess.Popen(["taskset", "-c", str(core)] + command, cwd=ROOT,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, env=env)

    def ask(self, request):
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name} exited")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"{self.name}: {reply['error']}")
        return reply

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


def ffmpeg_thumbnail(core, reps):
    """`ffmpeg -vf thumbnail` one thread, the process start included (as a user runs it)."""
    out = OUT / "ffmpeg-thumbnail.jpg"
    ms = []
    for _ in range(reps):
        started = time.perf_counter()
        subprocess.run(["taskset", "-c", str(core), "ffmpeg", "-loglevel", "error", "-threads",
                        "1", "-y", "-i", str(CLIP), "-vf", "thumbnail", "-frames:v", "1",
                        str(out)], check=True)
        ms.append((time.perf_counter() - started) * 1e3)
    return {"ms": ms}


def comparisons(postlens, frames, documents, captions, onnx, llama_state):
    """(name, unit count, postlens request, [(peer name, request to the peer server or a
    callable, note)])."""
    sentences = [postlens.ask({"task": "sentences", "text": d})["sentences"] for d in documents]
    # 128 tokens, as the text scorer's window; the text is the AI-styled document.
    ids = postlens.ask({"task": "tokenize", "text": documents[0], "limit": 128})["ids"]
    detector_inputs = []
    for i, frame in enumerate(frames):
        path = OUT / f"detector-input-{i}.f32"
        size = postlens.ask(dict(frame, task="detector_input", out=str(path)))["size"]
        detector_inputs.append({"input": str(path), "size": size, "model": str(onnx)})
    llama_note = "" if "built" in llama_state else "llama-cpp-python did not build here"
    rows = [
        ("MiniLM: 64 tag dev captions, each alone", len(captions),
         {"task": "embed_each", "texts": captions},
         [("sentence-transformers (PyTorch)", {"task": "embed_each", "texts": captions}, "")]),
    ]
    for label, doc_sentences in zip(("AI-styled", "human"), sentences):
        rows.append((f"MiniLM: a 1,000-word {label} document's {len(doc_sentences)} sentences, "
                     "one batch", 1, {"task": "embed_batch", "texts": doc_sentences},
                     [("sentence-transformers (PyTorch)",
                       {"task": "embed_batch", "texts": doc_sentences}, "")]))
    rows.append(("YOLOX-Nano: forward pass on 3 frames of the clip (416x416)", len(frames),
                 [dict(f, task="detector_forward") for f in frames],
                 [("onnxruntime", [dict(d, task="detector_forward") for d in detector_inputs],
                   "")]))
    surprisal = {"ids": ids, "document_start": 0}
    rows.append((f"SmolLM2-135M: all-positions surprisal over {len(ids)} tokens", 1,
                 dict(surprisal, task="surprisal"),
                 [("llama.cpp (llama-cpp-python, the same Q4_1 GGUF)",
                   dict(surprisal, task="surprisal_llama_cpp"), llama_note),
                  ("PyTorch (transformers, the GGUF dequantised to f32)",
                   dict(surprisal, task="surprisal_torch"), "")]))
    rows.append(("Thumbnail: the 15 s 720x1280 clip", 1,
                 {"task": "thumbnail", "video": str(CLIP)},
                 [("ffmpeg -threads 1 -vf thumbnail (a process per clip)", "ffmpeg", "")]))
    examples = [p.read_text() for p in sorted(SLOPOSCOPE.glob("*.txt"))]
    rows.append((f"Text scorer: Sloposcope's {len(examples)} example texts (100-375 words)",
                 len(examples), {"task": "score", "texts": examples, "domain": "general"},
                 [("Sloposcope (published, not run here)", "published", "")]))
    rows.append(("Text scorer: two 1,000-word documents", 2,
                 {"task": "score", "texts": documents, "domain": "general"}, []))
    return rows


def ask_all(server, request, reps):
    """Sums the per-rep times of a list of requests (one per frame)."""
    requests = request if isinstance(request, list) else [request]
    totals = [0.0] * reps
    for r in requests:
        for i, ms in enumerate(server.ask(dict(r, reps=reps))["ms"]):
            totals[i] += ms
    return totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--core", type=int, default=0)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    # The orchestrator itself stays off the measured core.
    others = os.sched_getaffinity(0) - {args.core}
    if others:
        os.sched_setaffinity(0, others)

    python, llama_state = peers_venv()
    frames = prepare_media()
    captions = [json.loads(line)["caption"]
                for line in (ROOT / "fixtures" / "tags" / "dev.jsonl").read_text().splitlines()
                if line.strip()]
    documents = thousand_word_documents()

    postlens = Server("postlens", [str(ROOT / "target" / "release" / "postlens"), "bench-serve"],
                      args.core)
    peers = Server("peers", [str(python), str(ROOT / "scripts" / "bench_peers.py"),
                             str(ROOT / "models")], args.core)
    rows = comparisons(postlens, frames, documents, captions, yolox_onnx(), llama_state)

    def peer_times(request, reps):
        if request == "ffmpeg":
            return ffmpeg_thumbnail(args.core, reps)["ms"]
        if request == "published":
            return None
        return ask_all(peers, request, reps)

    samples = {}
    available = {}
    log("warm-up (loads every model, runs each task once)")
    for name, _, ours, theirs in rows:
        ask_all(postlens, ours, 1)
        samples[(name, "postlens")] = []
        for peer, request, note in theirs:
            key = (name, peer)
            samples[key] = []
            if note:
                available[key] = note
                continue
            try:
                peer_times(request, 1)
            except RuntimeError as e:
                available[key] = str(e)
    for round_no in range(args.rounds):
        log(f"round {round_no + 1} of {args.rounds}")
        for name, _, ours, theirs in rows:
            sides = [("postlens", ours)] + [(p, r) for p, r, _ in theirs
                                             if (name, p) not in available]
            if round_no % 2:
                sides.reverse()
            for side, request in sides:
                if side == "postlens":
                    times = ask_all(postlens, request, args.reps)
                else:
                    times = peer_times(request, args.reps)
                if times is not None:
                    samples[(name, side)].extend(times)
    postlens.close()
    peers.close()

    table = render(rows, samples, available, args)
    (OUT / "results.md").write_text(table)
    (OUT / "results.json").write_text(json.dumps({
        "machine": machine(), "rounds": args.rounds, "reps": args.reps, "core": args.core,
        "llama_cpp_python": llama_state,
        "samples_ms": {f"{name} | {side}": times for (name, side), times in samples.items()},
        "unavailable": {f"{name} | {side}": why for (name, side), why in available.items()},
    }, indent=2))
    print(table)


def fmt_ms(ms):
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.1f} ms" if ms >= 10 else f"{ms:.2f} ms"


def render(rows, samples, available, args):
    lines = [f"Machine: {machine()}; `taskset -c {args.core}`, one thread per side; "
             f"{args.rounds} interleaved rounds x {args.reps} reps; medians.", "",
             "| workload | peer | postlens | peer | peer / postlens |", "|---|---|---|---|---|"]
    for name, units, _, theirs in rows:
        ours = statistics.median(samples[(name, "postlens")])
        if not theirs:
            lines.append(f"| {name} | (no peer) | {fmt_ms(ours)} | | |")
        for peer, request, _ in theirs:
            key = (name, peer)
            if request == "published":
                low, high = (s * 1000 for s in SLOPOSCOPE_PUBLISHED_S)
                per_text = ours / units
                lines.append(f"| {name} | {peer} | {fmt_ms(per_text)} per text | 4-10 s per "
                             f"text | **{low / per_text:.0f}-{high / per_text:.0f}x** |")
            elif key in available:
                lines.append(f"| {name} | {peer} | {fmt_ms(ours)} | not run: {available[key]} | |")
            else:
                theirs_ms = statistics.median(samples[key])
                lines.append(f"| {name} | {peer} | {fmt_ms(ours)} | {fmt_ms(theirs_ms)} | "
                             f"**{theirs_ms / ours:.2f}x** |")
    return "\n".join(lines) + "\n"


def machine():
    fields = {}
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    simd = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "SSE only"
    return (f"{fields.get('model name', 'unknown CPU')} (family {fields.get('cpu family', '?')} "
            f"model {fields.get('model', '?')}, {simd}), {os.cpu_count()} vCPUs, "
            f"Linux {platform.release()}")


if __name__ == "__main__":
    main()
