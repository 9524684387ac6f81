#!/usr/bin/env python3
"""`cargo lambda deploy` against moto's Lambda, as a code update of a stack's function.

The README says `cargo lambda deploy --binary-name <binary> <FunctionName>` updates the code
of a function the SAM stack created and keeps what the stack set: its layers, environment
and role. This creates such a function on moto (with a layer and the stack's variables),
runs cargo-lambda against it, and checks the configuration afterwards: the crate's
`[package.metadata.lambda.deploy]` memory and timeout applied, layers and environment
intact, the code replaced by the arm64 bootstrap.

Needs the arm64 bootstraps (`make lambda-build`) and the venv (moto, boto3, cargo-lambda).
Usage: scripts/check_cargo_lambda_deploy.py [binary ...]
"""

import io
import json
import os
import socket
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import boto3

import workers

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def zipped(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def check(binary: str, endpoint: str, env: dict) -> list[str]:
    session = dict(endpoint_url=endpoint, region_name="us-east-1")
    iam = boto3.client("iam", **session)
    lam = boto3.client("lambda", **session)
    role = iam.create_role(
        RoleName=f"{binary}-role",
        AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
             "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
        ),
    )["Role"]["Arn"]
    layer = lam.publish_layer_version(
        LayerName=f"{binary}-models",
        Content={"ZipFile": zipped("models/README", b"models")},
        CompatibleArchitectures=["arm64"],
    )["LayerVersionArn"]
    stack_env = {"OUTPUT_TOPIC_ARN": f"arn:aws:sns:us-east-1:123456789012:{binary}-out",
                 "MAX_RECEIVE_COUNT": "5"}
    function = f"stack-{binary}-Function-ABC123"
    lam.create_function(
        FunctionName=function,
        Runtime="provided.al2023",
        Role=role,
        Handler="bootstrap",
        Code={"ZipFile": zipped("bootstrap", b"old code")},
        Architectures=["arm64"],
        MemorySize=128,
        Timeout=3,
        Layers=[layer],
        Environment={"Variables": stack_env},
    )
    before = lam.get_function(FunctionName=function)["Configuration"]["CodeSha256"]
    deploy = subprocess.run(
        [str(VENV_BIN / "cargo-lambda"), "lambda", "deploy", "--binary-name", binary,
         "--endpoint-url", endpoint, "--region", "us-east-1", function],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    if deploy.returncode != 0:
        return [f"cargo lambda deploy failed: {deploy.stderr.strip()[-800:]}"]
    manifest = tomllib.loads((ROOT / "crates" / binary / "Cargo.toml").read_text())
    wanted = manifest["package"]["metadata"]["lambda"]["deploy"]
    config = lam.get_function_configuration(FunctionName=function)
    problems = []
    if config["MemorySize"] != wanted["memory"]:
        problems.append(f"memory {config['MemorySize']} != {wanted['memory']}")
    if config["Timeout"] != wanted["timeout"]:
        problems.append(f"timeout {config['Timeout']} != {wanted['timeout']}")
    # Not checked: `tracing`. moto's UpdateFunctionConfiguration does not record
    # TracingConfig (moto 5.x `update_configuration`), so it reads PassThrough whatever
    # cargo-lambda sent.
    if [l["Arn"] for l in config.get("Layers", [])] != [layer]:
        problems.append(f"layers {config.get('Layers')} != [{layer}]")
    if config.get("Environment", {}).get("Variables") != stack_env:
        problems.append(f"environment {config.get('Environment')} != {stack_env}")
    if config["CodeSha256"] == before:
        problems.append("the code was not replaced")
    if config.get("Architectures") != ["arm64"]:
        problems.append(f"architectures {config.get('Architectures')}")
    return problems


def main() -> int:
    binaries = sys.argv[1:] or [worker["binary"] for worker in workers.load()]
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="us-east-1", PATH=f"{VENV_BIN}:{os.environ['PATH']}")
    os.environ.update({k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")})
    server = subprocess.Popen([str(VENV_BIN / "moto_server"), "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        failed = False
        for binary in binaries:
            problems = check(binary, endpoint, env)
            print(f"{binary:<20} {'ok' if not problems else 'FAILED: ' + '; '.join(problems)}")
            failed |= bool(problems)
        return 1 if failed else 0
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
