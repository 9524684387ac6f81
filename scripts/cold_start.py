#!/usr/bin/env python3
"""Cold start of a worker binary: process spawn until its "worker ready" log line.

The binary starts as Lambda would start it (env from the template's defaults, models on
local disk), logs `worker ready` with its own `init_ms` once config, clients and models are
loaded, then tries to reach the Lambda runtime API, which is absent here, so we stop it.
Usage: scripts/cold_start.py target/release/caption-parser [runs]
"""

import json
import os
import statistics
import subprocess
import sys
import time

binary = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
env = dict(os.environ,
           OUTPUT_TOPIC_ARN="arn:aws:sns:us-east-1:000000000000:out",
           AWS_LAMBDA_RUNTIME_API="127.0.0.1:9",
           AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x",
           AWS_LAMBDA_FUNCTION_NAME="cold-start", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="512",
           AWS_LAMBDA_FUNCTION_VERSION="1", AWS_LAMBDA_LOG_STREAM_NAME="s", AWS_LAMBDA_LOG_GROUP_NAME="g",
           RUST_LOG="info")
wall, init = [], []
for _ in range(runs):
    started = time.perf_counter()
    process = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in process.stdout:
        if "worker ready" in line:
            wall.append((time.perf_counter() - started) * 1e3)
            fields = json.loads(line)
            # Log lines are flat (runtime::logging); older builds nested them under "fields".
            init.append(fields.get("init_ms", fields.get("fields", {}).get("init_ms")))
            break
    process.kill()
    process.wait()
if not wall:
    sys.exit(f"{binary} never logged 'worker ready'")
print(f"{os.path.basename(binary)}: spawn→ready median {statistics.median(wall):.1f} ms "
      f"(min {min(wall):.1f}, max {max(wall):.1f}); in-process init_ms median {statistics.median(init):.1f} ms; {len(wall)} runs")
