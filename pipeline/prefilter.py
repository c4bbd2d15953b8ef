"""The prefilter: a cheap look at a feed entry's title and summary, before its page is fetched.

It passes an entry that names the story's subject (a chipmaker, a chip, semiconductors: the rules' subject
phrases) more strongly than its other words point elsewhere; a bare "chip" is not enough ("potato chip",
"blue chips"). Broad sources (a general tech feed) lose most of their entries here and cost nothing for
them; the classifier still decides on the full article.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.rules import RuleModel, load_rules, score_rules

# "Nvidia" or "semiconductor" in a summary is 1.0; "AMD" or a bare "chip" in a title is 0.75 (titles count 1.5x).
MIN_SUBJECT = 1.0


@dataclass(frozen=True)
class Prefilter:
    rules: RuleModel

    def passes(self, title: str | None, summary: str | None) -> bool:
        scores = score_rules(self.rules, title, summary)
        return scores.subject - scores.negative >= MIN_SUBJECT


def load_prefilter(topics: Path) -> Prefilter:
    return Prefilter(load_rules(topics))
