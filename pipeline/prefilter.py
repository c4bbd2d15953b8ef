"""The prefilter: a cheap look at a feed entry's title and summary, before its page is fetched.

It passes an entry that names the story's subject at all (a chip, a chipmaker, semiconductors: the rules'
subject phrases). Broad sources (a general tech feed) lose most of their entries here and cost nothing
for them; the classifier still decides on the full article.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.rules import RuleModel, load_rules, score_rules


@dataclass(frozen=True)
class Prefilter:
    rules: RuleModel

    def passes(self, title: str | None, summary: str | None) -> bool:
        return score_rules(self.rules, title, summary).subject > 0


def load_prefilter(topics: Path) -> Prefilter:
    return Prefilter(load_rules(topics))
