"""The benchmarks' reference: trafilatura.extract with its defaults, as anyone installing it gets it.

It runs in an interpreter of its own that imports trafilatura and nothing of chipwatch's: a process that
has imported chipwatch's pipeline runs trafilatura's selectors compiled (pipeline/selectors.py), which
would make the reference faster than trafilatura alone is.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Run with -I (isolated): neither the current directory nor PYTHON* variables can put chipwatch's modules,
# or anything else, in its way.
_SCRIPT = """
import json, sys, time
from pathlib import Path

import trafilatura

directory = Path(sys.argv[1])
listing = json.loads((directory / "pages.json").read_text(encoding="utf-8"))
pages = [((directory / name).read_bytes(), url) for name, url in listing["pages"]]
trafilatura.extract(pages[0][0], url=pages[0][1])  # first use: what trafilatura loads once
seconds, texts = [], []
for _ in range(listing["runs"]):
    started = time.perf_counter()
    texts = [trafilatura.extract(html, url=url) for html, url in pages]
    seconds.append(time.perf_counter() - started)
print(json.dumps({"seconds": seconds, "texts": texts}))
"""


@dataclass(frozen=True)
class ReferenceRun:
    seconds: list[float]  # each pass over all the pages
    texts: list[str | None]  # what the last pass extracted, page by page


def stock_trafilatura(pages: list[tuple[bytes, str | None]], runs: int = 1) -> ReferenceRun:
    """trafilatura.extract(html, url=url) over the (html, url) pages, `runs` times one after another."""
    with tempfile.TemporaryDirectory(prefix="chipwatch-reference-") as tmp:
        directory = Path(tmp)
        names = []
        for number, (html, url) in enumerate(pages):
            name = f"{number}.html"
            (directory / name).write_bytes(html)
            names.append((name, url))
        (directory / "pages.json").write_text(json.dumps({"pages": names, "runs": runs}), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-I", "-c", _SCRIPT, str(directory)], capture_output=True, text=True, check=False
        )
    if done.returncode != 0:
        raise RuntimeError(f"the trafilatura reference failed: {done.stderr[-1500:]}")
    result = json.loads(done.stdout)
    return ReferenceRun(list(result["seconds"]), list(result["texts"]))
