"""A warm login through `Policy.evaluate` (not a test): the seeds' first login
(examples/seeds-story.json, step 0: alice's first device, in group `sales`), decided again
and again by one policy after a warm-up, timed per call. The figure to set beside
mdm-host's warm login and the HTTP round trip to `mdm serve`.

Run with the test venv's Python: target/python-venv/bin/python python/bench.py [CALLS]
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from mdm_policy import Policy

STORY = Path(__file__).resolve().parents[1] / "examples/seeds-story.json"


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    story = json.loads(STORY.read_text(encoding="utf-8"))
    event = story["steps"][0]["event"]
    groups = story["directory"][event["user"]]
    started = time.perf_counter()
    policy = Policy(story["policy"])
    first = time.perf_counter() - started  # compiling the component, instantiating, parsing
    decision = policy.evaluate(groups, None, event)["decision"]
    assert decision.get("outcome") == "allow" and decision.get("reasons") == ["scope.group", "device.first"], decision
    for _ in range(1_000):
        policy.evaluate(groups, None, event)
    times = []
    for _ in range(calls):
        t = time.perf_counter_ns()
        policy.evaluate(groups, None, event)
        times.append(time.perf_counter_ns() - t)
    times.sort()
    median = statistics.median(times) / 1000
    p99 = times[int(len(times) * 0.99)] / 1000
    print(f"first Policy (compile, instantiate, parse): {first * 1000:.0f} ms")
    print(f"warm login through Policy.evaluate: median {median:.1f} µs, p99 {p99:.1f} µs, {calls} calls")


if __name__ == "__main__":
    main()
