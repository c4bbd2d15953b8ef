"""Data files that ship inside the packages (topics, model, templates, default sources, the demo network).

Read through importlib.resources, so they are found wherever the packages are installed, not only in a
checkout. pip installs packages as plain directories, so each file is a real path others can open.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def packaged(package: str, *parts: str) -> Path:
    """The path of a file shipped in `package`, such as packaged("pipeline", "topics.toml")."""
    return Path(str(files(package).joinpath(*parts)))
