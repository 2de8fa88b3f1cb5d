"""Several threads deciding at once, on one shared `Policy` and on policies of their own,
with previews and validations beside them: every answer equals the serial one.
"""

from __future__ import annotations

import json
import random
import threading
from typing import Any, Callable, Dict, List, Tuple

from mdm_policy import MdmError, Policy, preview, validate

from runner import REPO

THREADS = 8
AT = "2026-11-22T10:00:00Z"
POLICY = json.loads((REPO / "examples/policy.json").read_text(encoding="utf-8"))
PROPOSED = (REPO / "examples/policy-engineering.json").read_text(encoding="utf-8")
POPULATION = (REPO / "examples/population.json").read_text(encoding="utf-8")

Case = Tuple[List[str], Any, Dict[str, Any]]


def cases(n: int) -> List[Case]:
    """Logins and admin events of users in and out of scope, with and without devices."""
    rng = random.Random(29)
    out: List[Case] = []
    for i in range(n):
        groups = rng.choice([["sales"], ["engineering"], [], ["sales", "other"]])
        devices = [{"device_id": f"D{j}", "os_type": "ios", "os_version": "17.2", "pin_length": 6,
                    "registered_at": "2026-01-05T09:00:00Z"} for j in range(rng.randrange(3))]  # fmt: skip
        state = rng.choice([None, {"devices": devices}])
        user = rng.choice(["alice", "bob", "carol"])
        if rng.random() < 0.7:
            device = {"device_id": f"D{rng.randrange(4)}", "os_type": rng.choice(["ios", "android"]),
                      "os_version": rng.choice(["12", "15.1", "17.2"]), "pin_length": rng.choice([2, 6])}  # fmt: skip
            event: Dict[str, Any] = {"type": "login", "user": user, "at": AT, "device": device}
        else:
            event = {"type": rng.choice(["approve", "reject", "remove_device"]), "user": user,
                     "device_id": f"D{rng.randrange(4)}", "at": AT}  # fmt: skip
        out.append((groups, state, event))
    return out


def answer(policy: Policy, case: Case) -> Any:
    try:
        return policy.evaluate(*case)
    except MdmError as e:
        return (e.code, e.pointer, e.message)


def at_once(work: Callable[[int], List[Any]]) -> List[List[Any]]:
    """Runs `work(i)` in THREADS threads started together; their results, in thread order."""
    start = threading.Barrier(THREADS)
    results: List[List[Any]] = [[] for _ in range(THREADS)]
    errors: List[BaseException] = []

    def run(i: int) -> None:
        try:
            start.wait()
            results[i] = work(i)
        except BaseException as e:  # noqa: BLE001 - reported below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def test_threads_sharing_a_policy_give_the_serial_answers() -> None:
    policy = Policy(POLICY)
    work = cases(300)
    serial = [answer(policy, c) for c in work]
    assert any(isinstance(a, tuple) for a in serial) and any(isinstance(a, dict) for a in serial)

    def decide(i: int) -> List[Any]:
        order = list(range(len(work)))
        random.Random(i).shuffle(order)  # each thread in its own order
        got = [None] * len(work)
        for k in order:
            got[k] = answer(policy, work[k])
        return got

    for got in at_once(decide):
        assert got == serial
    # The calls overlapped: the policy needed more than one instance.
    assert len(policy._idle) > 1


def test_threads_with_policies_of_their_own_and_previews() -> None:
    work = cases(100)
    serial = [answer(Policy(POLICY), c) for c in work]
    report = preview(POLICY, PROPOSED, POPULATION, AT)
    validation = validate(PROPOSED)

    def mixed(i: int) -> List[Any]:
        own = Policy(POLICY)
        return [answer(own, c) for c in work] + [preview(POLICY, PROPOSED, POPULATION, AT), validate(PROPOSED)]

    for got in at_once(mixed):
        assert got == [*serial, report, validation]
