"""Every Python block of the README and of docs/ runs verbatim, each on its own.

A block that uses a name it never defines fails here, so what a reader copies works.
"""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
RST = re.compile(r"^\.\. code-block:: python\n\n((?:(?:    .*)?\n)+)", re.M)


def _blocks():
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
             *sorted((ROOT / "docs").glob("*.rst"))]
    for path in files:
        text = path.read_text(encoding="utf-8")
        found = [(m.start(), m.group(1)) for m in FENCE.finditer(text)]
        found += [(m.start(), _dedent(m.group(1))) for m in RST.finditer(text)]
        for start, code in sorted(found):
            rel = path.relative_to(ROOT).as_posix()
            line = text.count("\n", 0, start) + 1
            yield pytest.param(code, id=f"{rel}:{line}")


def _dedent(block: str) -> str:
    return "\n".join(line[4:] for line in block.splitlines()) + "\n"


BLOCKS = list(_blocks())


def test_blocks_were_found():
    ids = [b.id for b in BLOCKS]
    assert any(i.startswith("README.md") for i in ids)
    assert len(ids) >= 6


@pytest.mark.parametrize("code", BLOCKS)
def test_code_block_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # files a block writes land here
    os.environ.setdefault("MPLBACKEND", "Agg")
    exec(compile(code, "<doc block>", "exec"), {"__name__": "__doc_block__"})
