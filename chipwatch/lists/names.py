"""Names as screening compares them: one script, one case, no punctuation, no legal-form words."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

# Words that say what kind of company it is, not which: "Huawei Technologies Co., Ltd." is "huawei
# technologies". Only these; "technology" or "holdings" tell parties apart and stay.
LEGAL_FORMS = {
    "co", "company", "ltd", "limited", "inc", "incorporated", "corp", "corporation", "llc", "plc", "gmbh",
    "ag", "sa", "srl", "sarl", "bv", "nv", "jsc", "pjsc", "ojsc", "cjsc", "ooo", "oao", "zao", "ao", "pte",
    "pty", "llp", "lp", "kg", "kk", "sdn", "bhd", "the", "of",
}  # fmt: skip
# Chinese legal forms, longest first, as they end a name (Simplified: Traditional is mapped first).
CHINESE_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "集团公司", "责任公司", "公司")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
NOT_WORD = re.compile(r"[^\w\u3400-\u9fff]+")


def has_cjk(text: str) -> bool:
    return bool(CJK.search(text))


@lru_cache(maxsize=200_000)
def normalise_name(name: str) -> str:
    """Case, width, script and punctuation folded, legal-form words dropped ("" when nothing is left)."""
    text = unicodedata.normalize("NFKC", name).casefold()
    if has_cjk(text):
        text = _simplified(text)
    text = text.replace("&", " and ").replace("'", "")
    words = [word for word in NOT_WORD.sub(" ", text).split() if word not in LEGAL_FORMS]
    joined = " ".join(words)
    if has_cjk(joined):
        for form in CHINESE_FORMS:
            if joined.endswith(form):
                if len(joined) > len(form) + 1:  # a name that is only a legal form stays as it is
                    joined = joined[: -len(form)].rstrip()
                break
    return joined


@lru_cache(maxsize=1)
def _converter() -> Callable[[str], str]:
    from opencc import OpenCC

    return OpenCC("t2s").convert


def _simplified(text: str) -> str:
    """Traditional characters as Simplified, by OpenCC's full table: names use characters (儀, 藍) that
    the article matcher's short table does not need."""
    return _converter()(text)


def plain_name(name: str) -> str:
    """Only case, width and spacing folded: the "exact" comparison."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def tokens(normalised: str) -> set[str]:
    """What two names must share to be compared at all: Latin words, and pairs of Chinese characters."""
    found: set[str] = set()
    for word in normalised.split():
        if has_cjk(word):
            chars = [c for c in word if has_cjk(c)]
            found.update(a + b for a, b in itertools.pairwise(chars))
            if len(chars) == 1:
                found.add(chars[0])
        elif len(word) >= 2:
            found.add(word)
    return found


def pinyin_forms(normalised: str) -> tuple[str, set[str]]:
    """A Chinese name in pinyin, written together ("华为技术" -> "huaweijishu"), and the runs of one to three
    syllables it could share with a romanised name ("hua", "huawei", "huaweiji", ...)."""
    from pypinyin import lazy_pinyin

    syllables = [s for s in lazy_pinyin(normalised.replace(" ", "")) if s.isascii() and s.strip()]
    runs = {"".join(syllables[i : i + n]) for n in (1, 2, 3) for i in range(len(syllables) - n + 1)}
    return "".join(syllables), {run for run in runs if len(run) >= 4}
