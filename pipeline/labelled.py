"""The labelled corpus (pipeline/corpus/*.txt): loading, ids and the fixed train/dev/heldout split."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from chipwatch.errors import ConfigError
from pipeline.rules import TOPIC_IDS

CORPUS_DIR = Path(str(files("pipeline").joinpath("corpus")))
LANGS = ("en", "zh-Hans", "zh-Hant")
SPLITS = ("train", "dev", "heldout")


@dataclass(frozen=True)
class LabelledItem:
    id: str
    lang: str
    voice: str
    title: str
    text: str
    relevant: bool
    topics: tuple[str, ...]  # primary topic first
    split: str
    origin: str = "corpus"


def split_for(item_id: str) -> str:
    """train (60%), dev (20%) or heldout (20%), from the id's hash: stable however the corpus grows."""
    bucket = int(hashlib.sha256(item_id.encode()).hexdigest(), 16) % 10
    return "train" if bucket < 6 else "dev" if bucket < 8 else "heldout"


def item_id(title: str) -> str:
    return hashlib.sha256(" ".join(title.split()).encode()).hexdigest()[:12]


def load_corpus(directory: Path = CORPUS_DIR) -> list[LabelledItem]:
    items: list[LabelledItem] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.txt")):
        for line_number, block in _blocks(path.read_text(encoding="utf-8")):
            item = _parse_block(block, f"{path}:{line_number}")
            if item.id in seen:
                raise ConfigError(f"{path}:{line_number}: headline already used at {seen[item.id]}")
            seen[item.id] = f"{path.name}:{line_number}"
            items.append(item)
    if not items:
        raise ConfigError(f"{directory}: no labelled items found")
    return items


def load_labelled_file(path: Path) -> list[LabelledItem]:
    """Labelled items from a corpus-format .txt file or JSON Lines (id, title, text, lang, relevant, topics)."""
    if path.suffix == ".txt":
        return load_corpus_file(path)
    items = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            topics = tuple(data.get("topics") or ())
            items.append(
                LabelledItem(
                    id=str(data.get("id", number)),
                    lang=str(data.get("lang") or "und"),
                    voice="",
                    title=str(data.get("title") or ""),
                    text=str(data.get("text") or ""),
                    relevant=bool(data.get("relevant", bool(topics))),
                    topics=topics,
                    split="heldout",
                    origin=str(path),
                )
            )
        except (ValueError, AttributeError, TypeError) as error:
            raise ConfigError(f"{path}:{number}: not a labelled item: {error}") from None
    return items


def load_corpus_file(path: Path) -> list[LabelledItem]:
    return [
        _parse_block(block, f"{path}:{line_number}") for line_number, block in _blocks(path.read_text(encoding="utf-8"))
    ]


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            if current:
                blocks.append((start, current))
            current = []
            continue
        if not current:
            start = number
        current.append(line.strip())
    if current:
        blocks.append((start, current))
    return blocks


def _parse_block(lines: list[str], where: str) -> LabelledItem:
    header = lines[0]
    if not header.startswith("@ ") or "|" not in header or len(lines) < 2:
        raise ConfigError(f"{where}: expected '@ LANG VOICE | TOPICS' then a headline and text")
    meta, _, labels = header[2:].partition("|")
    parts = meta.split()
    if len(parts) != 2 or parts[0] not in LANGS:
        raise ConfigError(f"{where}: header must name a language ({', '.join(LANGS)}) and a voice")
    topics = tuple(t.strip() for t in labels.split(",") if t.strip() and t.strip() != "-")
    unknown = [t for t in topics if t not in TOPIC_IDS]
    if unknown:
        raise ConfigError(f"{where}: unknown topic {unknown[0]!r}")
    title, text = lines[1], " ".join(lines[2:]) if parts[0] == "en" else "".join(lines[2:])
    identifier = item_id(title)
    return LabelledItem(
        id=identifier,
        lang=parts[0],
        voice=parts[1],
        title=title,
        text=text,
        relevant=bool(topics),
        topics=topics,
        split=split_for(identifier),
    )
