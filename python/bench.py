"""The Python package's speed beside the two other ways a gateway calls the engine (not a
test): the seeds' first login (examples/seeds-story.json, step 0: alice's phone, in group
`sales`), once registered, decided again and again (a known device, `allow`):

1. through `Policy.evaluate` in this process (the component in wasmtime's Python bindings);
2. over HTTP to `mdm serve` on loopback (SQLite in a scratch directory under target/), one
   keep-alive connection, the service's answer included;

each timed per call after a warm-up, median and p99. The same login through `mdm-host`
(Rust, the typed hot path) is the decide bench's `story_login/wasmtime_warm`
(`cargo bench -p mdm-host --bench decide -- story_login`).

Run with the test venv's Python, after `cargo build --release`:
target/python-venv/bin/python python/bench.py [CALLS]
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, List

from mdm_policy import Policy

REPO = Path(__file__).resolve().parents[1]
STORY = REPO / "examples/seeds-story.json"
TOKEN = "bench-gateway-token-0123456789"


def timed(call: Callable[[], object], calls: int) -> str:
    for _ in range(min(calls, 1_000)):
        call()
    times: List[int] = []
    for _ in range(calls):
        t = time.perf_counter_ns()
        call()
        times.append(time.perf_counter_ns() - t)
    times.sort()
    median = statistics.median(times) / 1000
    p99 = times[int(len(times) * 0.99)] / 1000
    return f"median {median:.1f} µs, p99 {p99:.1f} µs, {calls} calls"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    story = json.loads(STORY.read_text(encoding="utf-8"))
    event = story["steps"][0]["event"]
    groups = story["directory"][event["user"]]

    started = time.perf_counter()
    policy = Policy(story["policy"])
    first = time.perf_counter() - started  # compiling the component, instantiating, parsing
    state = policy.evaluate(groups, None, event)["state"]
    decision = policy.evaluate(groups, state, event)["decision"]
    assert decision.get("outcome") == "allow" and decision.get("reasons") == ["scope.group", "device.known"], decision
    print(f"first Policy (compile, instantiate, parse): {first * 1000:.0f} ms")
    print(f"1. Policy.evaluate in Python: {timed(lambda: policy.evaluate(groups, state, event), calls)}")

    scratch = REPO / "target/python-bench"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    (scratch / "policy.json").write_text(json.dumps(story["policy"]), encoding="utf-8")
    port = free_port()
    env = {**os.environ, "MDM_GATEWAY_TOKEN": TOKEN, "MDM_ADMIN_TOKEN": TOKEN + "-admin"}
    server = subprocess.Popen(
        [str(REPO / "target/release/mdm"), "serve", "--policy", str(scratch / "policy.json"),
         "--db", f"sqlite://{scratch / 'mdm.db'}", "--create", "--listen", f"127.0.0.1:{port}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        body = json.dumps({"user": event["user"], "groups": groups, "device": event["device"]})
        headers = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("mdm serve did not start")
                time.sleep(0.1)

        def login() -> None:
            conn.request("POST", "/v1/login", body, headers)
            answer = conn.getresponse()
            data = answer.read()
            assert answer.status == 200, data

        login()  # registers the phone; every later login is a known device
        print(f"2. POST /v1/login to mdm serve (SQLite, loopback): {timed(login, max(calls // 10, 100))}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
