"""The READMEs' Python example, run as written: it must print what its last comment says."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from runner import REPO


@pytest.mark.parametrize("readme", ["python/README.md", "README.md"])
def test_the_readme_example_runs_as_written(readme: str) -> None:
    text = (REPO / readme).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1, f"one Python example in {readme}"
    code = blocks[0]
    assert len(code.strip().splitlines()) == 5, "a five-line example"
    expected = code.strip().splitlines()[-1].rsplit("  # ", 1)[1]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO / "target")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected
