#!/usr/bin/env python3
"""Cost per million inputs on Lambda arm64, from the durations `make bench` measured.

Inputs (edit them when the README's performance numbers change):
- per-batch compute: the README's `make bench` rows (x86-64, one core of this VM; arm64
  durations are not measured, Graviton is assumed as fast per core, which is a guess);
- AWS calls per batch: not measured here (moto is not AWS); 40 ms per PublishBatch call
  is assumed and counted once per batch of ten;
- memory: each worker's memory_size in infra/workers.toml (the template's MemorySize).

Prices: AWS list prices for us-east-1 as published in 2025 (Lambda arm64 $0.0000133334 per
GB-second and $0.20 per million requests; SQS standard $0.40 per million requests; SNS
$0.50 per million publishes), not re-checked (no internet here). Free tiers are ignored.
The LLM column prices one call per input to a small hosted model at $0.15 / $0.60 per
million input / output tokens (2025 list price of a "mini" model), with the token counts
given per worker.

Usage: scripts/cost_table.py
"""

import workers

LAMBDA_GB_SECOND = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1e6
SQS_REQUEST = 0.40 / 1e6
SNS_PUBLISH = 0.50 / 1e6
S3_PUT = 0.005 / 1000
S3_GET = 0.0004 / 1000
LLM_INPUT_TOKEN = 0.15 / 1e6
LLM_OUTPUT_TOKEN = 0.60 / 1e6
BATCH = 10
PUBLISH_CALL_MS = 40.0

# row: (worker binary, compute ms per batch of BATCH inputs, what was measured,
#       S3 (PUTs, GETs) per input, LLM (input, output) tokens per input or None)
ROWS = {
    # `make bench`'s rows, 2026-12-07 (7263601; Intel Xeon family 6 model 207, core 0, one run,
    # an arm64 build compiling on core 1), the bench binaries run one by one.
    "caption-parser": ("caption-parser", 0.489, "10-record batch through the engine, 489 µs", (0, 0), (350, 150)),
    "auto-tagger": ("auto-tagger", 51.1, "10 captions sharing one MiniLM pass, 51.1 ms", (0, 0), (400, 120)),
    "text-scorer (1,000 words)": ("text-scorer", 10 * 557.6, "558 ms per 1,000-word document", (0, 0), (1600, 400)),
    # Two thumbnails written, the clip read; an LLM cannot crop, so no column.
    "thumbnail-generator (15 s clip)": ("thumbnail-generator", 10 * 400.6, "401 ms per 15 s 720p clip", (2, 1), None),
}


def per_million(memory_mb, batch_ms, s3_calls, llm_tokens):
    batches = 1e6 / BATCH
    # Lambda bills each invocation's duration rounded up to the millisecond.
    billed_ms = -(-(batch_ms + PUBLISH_CALL_MS) // 1)
    compute = batches * billed_ms / 1000 * memory_mb / 1024 * LAMBDA_GB_SECOND
    requests = batches * LAMBDA_REQUEST
    # Per input: SNS's delivery into the queue; per batch: one receive and one delete.
    sqs = (1e6 + 2 * batches) * SQS_REQUEST
    sns = 1e6 * SNS_PUBLISH
    s3 = 1e6 * (s3_calls[0] * S3_PUT + s3_calls[1] * S3_GET)
    llm = None
    if llm_tokens:
        llm = 1e6 * (llm_tokens[0] * LLM_INPUT_TOKEN + llm_tokens[1] * LLM_OUTPUT_TOKEN)
    return compute, requests, sqs, sns, s3, llm


def main():
    print("| worker | memory | measured | Lambda GB-s | Lambda requests | SQS | SNS | S3 | **total** | LLM API instead |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    memory_of = {worker["binary"]: worker["memory_size"] for worker in workers.load()}
    for name, (binary, batch_ms, measured, s3_calls, llm_tokens) in ROWS.items():
        memory = memory_of[binary]
        compute, requests, sqs, sns, s3, llm = per_million(memory, batch_ms, s3_calls, llm_tokens)
        total = compute + requests + sqs + sns + s3
        llm_text = "n/a" if llm is None else f"${llm:,.0f} ({llm_tokens[0]}+{llm_tokens[1]} tokens)"
        print(
            f"| {name} | {memory} MB | {measured} | ${compute:,.2f} | ${requests:,.2f} | "
            f"${sqs:,.2f} | ${sns:,.2f} | ${s3:,.2f} | **${total:,.2f}** | {llm_text} |"
        )


if __name__ == "__main__":
    main()
