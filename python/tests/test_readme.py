"""The README's Python example, run as written: it must print what its last comment says."""

from __future__ import annotations

import re
import subprocess
import sys

from runner import REPO


def test_the_readme_example_runs_as_written() -> None:
    readme = (REPO / "python/README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert len(blocks) == 1, "one Python example in python/README.md"
    code = blocks[0]
    assert len(code.strip().splitlines()) == 5, "a five-line example"
    expected = code.strip().splitlines()[-1].rsplit("  # ", 1)[1]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO / "target")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected
