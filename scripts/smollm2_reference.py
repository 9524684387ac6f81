#!/usr/bin/env python3
"""Reference answers for the SmolLM2 scorer in crates/models (tests/smollm2.rs).

Independent of the Rust code on both halves:
- token ids come from a plain Python byte-level BPE over the GGUF's merges with llama.cpp's
  "smollm" pre-tokenizer patterns, not from the tokenizer.json that `make models` writes
  or from the tokenizers library;
- surprisals come from a plain numpy Llama forward pass over weights dequantised by the
  `gguf` package (llama.cpp's Python reader), not from candle.

Needs a separate venv (numpy, gguf, regex); the project's venv has none
of these. Usage: scripts/smollm2_reference.py models/smollm2-135m > fixtures/models/smollm2-reference.json
"""

import json
import sys
from pathlib import Path

import numpy as np
import regex
from gguf import GGUFReader
from gguf.quants import dequantize

SENTENCES = [
    "The capital of France is Paris.",
    "She sold 12 handmade kitenge dresses at the market on Saturday, each for KES 2,500.",
    "In today's fast-paced world, it is important to note that innovation plays a crucial role.",
    "Colorless green ideas sleep furiously.",
    "banana the of quickly seven purple under sang",
]
DOCUMENT_START = 0  # <|endoftext|>: the token that separates documents in pretraining


# llama.cpp, LLAMA_VOCAB_PRE_TYPE_SMOLLM: every digit on its own, then GPT-2's pattern.
PRE_TOKENIZER = [
    r"\p{N}",
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)",
]


def gpt2_byte_alphabet() -> dict:
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


class ByteLevelBpe:
    def __init__(self, tokens, merges):
        self.ids = {t: i for i, t in enumerate(tokens)}
        self.ranks = {tuple(m.split(" ")): r for r, m in enumerate(merges)}
        self.alphabet = gpt2_byte_alphabet()

    def split(self, text):
        pieces = [text]
        for pattern in PRE_TOKENIZER:
            out = []
            for piece in pieces:
                # Like llama.cpp: matches and the text between them are both kept.
                last = 0
                for m in regex.finditer(pattern, piece):
                    if m.start() > last:
                        out.append(piece[last:m.start()])
                    out.append(m.group())
                    last = m.end()
                if last < len(piece):
                    out.append(piece[last:])
            pieces = out
        return pieces

    def word(self, piece):
        parts = [self.alphabet[b] for b in piece.encode("utf-8")]
        while len(parts) > 1:
            pairs = [(self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            rank, i = min(pairs)
            if rank == 1 << 30:
                break
            parts = parts[:i] + [parts[i] + parts[i + 1]] + parts[i + 2:]
        return [self.ids[p] for p in parts]

    def encode(self, text):
        return [i for piece in self.split(text) for i in self.word(piece)]


def metadata(reader: GGUFReader) -> dict:
    return {f.name: f for f in reader.fields.values()}


def strings(field):
    return [bytes(field.parts[i]).decode("utf-8") for i in field.data]


def weights(path: Path) -> dict:
    reader = GGUFReader(str(path))
    meta = metadata(reader)

    def scalar(key):
        field = meta[key]
        return field.parts[field.data[0]][0]

    tensors = {t.name: dequantize(t.data, t.tensor_type).astype(np.float32) for t in reader.tensors}
    config = {
        "layers": int(scalar("llama.block_count")),
        "heads": int(scalar("llama.attention.head_count")),
        "kv_heads": int(scalar("llama.attention.head_count_kv")),
        "eps": float(scalar("llama.attention.layer_norm_rms_epsilon")),
        "rope_base": float(scalar("llama.rope.freq_base")),
    }
    return config, tensors


def rms_norm(x, weight, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * weight


def rope(x, base):
    # llama.cpp's "normal" rope for the llama architecture: rotate adjacent pairs (2i, 2i+1);
    # the GGUF converter permuted the q/k rows so that this equals Hugging Face's half-split.
    seq, _, dim = x.shape
    freqs = base ** (-np.arange(0, dim, 2, dtype=np.float64) / dim)
    angles = np.arange(seq)[:, None] * freqs[None, :]
    cos, sin = np.cos(angles)[:, None, :], np.sin(angles)[:, None, :]
    even, odd = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = even * sin + odd * cos
    return out


def logits(config, w, ids):
    x = w["token_embd.weight"][ids]
    seq = len(ids)
    heads, kv_heads = config["heads"], config["kv_heads"]
    head_dim = x.shape[1] // heads
    mask = np.triu(np.full((seq, seq), -np.inf), 1)
    for layer in range(config["layers"]):
        p = f"blk.{layer}."
        h = rms_norm(x, w[p + "attn_norm.weight"], config["eps"])
        q = rope((h @ w[p + "attn_q.weight"].T).reshape(seq, heads, head_dim), config["rope_base"])
        k = rope((h @ w[p + "attn_k.weight"].T).reshape(seq, kv_heads, head_dim), config["rope_base"])
        v = (h @ w[p + "attn_v.weight"].T).reshape(seq, kv_heads, head_dim)
        group = heads // kv_heads
        k, v = np.repeat(k, group, axis=1), np.repeat(v, group, axis=1)
        scores = np.einsum("qhd,khd->hqk", q, k) / np.sqrt(head_dim) + mask
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        attended = np.einsum("hqk,khd->qhd", scores, v).reshape(seq, -1)
        x = x + attended @ w[p + "attn_output.weight"].T
        h = rms_norm(x, w[p + "ffn_norm.weight"], config["eps"])
        gate = h @ w[p + "ffn_gate.weight"].T
        x = x + ((gate / (1 + np.exp(-gate))) * (h @ w[p + "ffn_up.weight"].T)) @ w[p + "ffn_down.weight"].T
    x = rms_norm(x, w["output_norm.weight"], config["eps"])
    output = w.get("output.weight", w["token_embd.weight"])
    return x @ output.T


def surprisals_bits(config, w, ids):
    """Surprisal of each token after the first, given everything before it, in bits."""
    z = logits(config, w, ids).astype(np.float64)
    z -= z.max(-1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(-1, keepdims=True))
    return [float(-log_probs[i, ids[i + 1]] / np.log(2)) for i in range(len(ids) - 1)]


def main() -> None:
    model_dir = Path(sys.argv[1])
    meta = metadata(GGUFReader(str(model_dir / "model.gguf")))
    tokenizer = ByteLevelBpe(strings(meta["tokenizer.ggml.tokens"]), strings(meta["tokenizer.ggml.merges"]))
    config, w = weights(model_dir / "model.gguf")
    cases = []
    for text in SENTENCES:
        ids = tokenizer.encode(text)
        cases.append({
            "text": text,
            "token_ids": ids,
            "surprisal_bits": surprisals_bits(config, w, [DOCUMENT_START] + ids),
        })
    json.dump({"source": "scripts/smollm2_reference.py (Python BPE, numpy forward)",
               "document_start": DOCUMENT_START, "cases": cases}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
