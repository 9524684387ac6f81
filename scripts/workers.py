#!/usr/bin/env python3
"""The list of workers (infra/workers.toml) and what is made from it.

    scripts/workers.py binaries   the cargo binaries, one line (the Makefile's LAMBDA_BINARIES)
    scripts/workers.py render     write infra/template.yaml
    scripts/workers.py check      fail if infra/template.yaml is not the rendering (make test)

infra/template.yaml stays a plain, committed template because SAM, cfn-lint, checkov and the
local stack all read it as it is; only its per-worker parts are rendered, from
infra/worker.yaml.in, into the markers of infra/template.yaml.in. Python's standard library
only, so the Makefile can call it before any venv exists.
"""

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKERS = ROOT / "infra" / "workers.toml"
TEMPLATE_IN = ROOT / "infra" / "template.yaml.in"
WORKER_IN = ROOT / "infra" / "worker.yaml.in"
TEMPLATE = ROOT / "infra" / "template.yaml"

# Lambda's own limits; SQS caps a visibility timeout at 12 hours.
MEMORY_MB = range(128, 10241)
MAX_TIMEOUT_S = 900
VISIBILITY_PER_TIMEOUT = 6
OPTIONAL_FIELDS = ("memory_comment", "layers", "environment", "policies")
REQUIRED_FIELDS = ("binary", "input_topic", "output_topic", "memory_size", "timeout")


class WorkerListError(Exception):
    pass


def resource_prefix(binary):
    """caption-parser -> CaptionParser, the prefix of its CloudFormation logical ids."""
    return "".join(part.capitalize() for part in binary.split("-"))


def load():
    with WORKERS.open("rb") as file:
        workers = tomllib.load(file).get("worker", [])
    seen = set()
    for worker in workers:
        missing = [field for field in REQUIRED_FIELDS if field not in worker]
        unknown = set(worker) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS)
        binary = worker.get("binary", "?")
        if missing or unknown:
            raise WorkerListError(f"{binary}: missing {missing}, unknown {sorted(unknown)}")
        if not re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", binary):
            raise WorkerListError(f"{binary}: a binary is lowercase words joined by '-'")
        if binary in seen:
            raise WorkerListError(f"{binary}: listed twice")
        seen.add(binary)
        if worker["memory_size"] not in MEMORY_MB:
            raise WorkerListError(f"{binary}: Lambda memory is 128 to 10240 MB")
        if not 1 <= worker["timeout"] <= MAX_TIMEOUT_S:
            raise WorkerListError(f"{binary}: Lambda timeout is 1 to {MAX_TIMEOUT_S} s")
    if not workers:
        raise WorkerListError(f"{WORKERS} lists no [[worker]]")
    return workers


def indented(text, spaces):
    pad = " " * spaces
    if not text.strip():
        return []
    return [pad + line if line else "" for line in text.strip("\n").split("\n")]


def render_worker(worker, block):
    optional = {
        "memory_comment": indented(worker.get("memory_comment", ""), 6),
        "layers": ["      Layers:"] + [f"        - !Ref {layer}" for layer in worker["layers"]]
        if worker.get("layers")
        else [],
        "environment": indented(worker.get("environment", ""), 10),
        "policies": indented(worker.get("policies", ""), 8),
    }
    fields = {
        "binary": worker["binary"],
        "Name": resource_prefix(worker["binary"]),
        "InputTopic": worker["input_topic"],
        "OutputTopic": worker["output_topic"],
        "memory_size": str(worker["memory_size"]),
        "timeout": str(worker["timeout"]),
        "visibility_timeout": str(VISIBILITY_PER_TIMEOUT * worker["timeout"]),
    }
    lines = []
    for line in block:
        whole = re.fullmatch(r"\{\{(\w+)\}\}", line)
        if whole and whole.group(1) in optional:
            lines += optional[whole.group(1)]
            continue
        lines.append(re.sub(r"\{\{(\w+)\}\}", lambda m: fields[m.group(1)], line))
    return lines


def render(workers):
    block = WORKER_IN.read_text().split("\n")
    while block and block[0].startswith("#"):
        block.pop(0)
    while block and not block[-1]:
        block.pop()
    resources, topics, topic_outputs, function_outputs = [], [], [], []
    for worker in workers:
        resources += render_worker(worker, block) + [""]
        topic = worker["output_topic"]
        topics += [f"  {topic}:", "    Type: AWS::SNS::Topic", "    Properties:",
                   "      KmsMasterKeyId: alias/aws/sns", ""]
        topic_outputs += [f"  {topic}Arn:", f"    Value: !Ref {topic}"]
        function_outputs += [
            f"  {resource_prefix(worker['binary'])}FunctionName:",
            "    Description: For `cargo lambda deploy --binary-name <binary> <this name>` (code updates).",
            f"    Value: !Ref {resource_prefix(worker['binary'])}Function",
        ]
    markers = {
        "  # @workers: output topics": topics[:-1],
        "  # @workers: resources": resources[:-1],
        "  # @workers: outputs": topic_outputs + function_outputs,
    }
    out = []
    for line in TEMPLATE_IN.read_text().split("\n"):
        if line in markers:
            out += markers.pop(line)
        else:
            out.append(line)
    if markers:
        raise WorkerListError(f"{TEMPLATE_IN} lacks the markers {sorted(markers)}")
    return "\n".join(out)


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    try:
        workers = load()
        if command == "binaries":
            print(" ".join(worker["binary"] for worker in workers))
        elif command == "render":
            TEMPLATE.write_text(render(workers))
        elif command == "check":
            if TEMPLATE.read_text() != render(workers):
                sys.exit(f"{TEMPLATE} is not the rendering of infra/workers.toml: run `make template`")
        else:
            sys.exit(__doc__)
    except WorkerListError as error:
        sys.exit(f"infra/workers.toml: {error}")


if __name__ == "__main__":
    main()
