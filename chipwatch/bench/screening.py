"""`chipwatch bench-screen`: comparing a 30,000-entry screening list with its previous version, and screening
5,000 counterparties against it, beside a naive all-pairs fuzzy comparison (the reference, in the same run).

The list is synthetic and fictional: names built from syllables and trade words, a third with a Chinese
name and aliases, as the Consolidated Screening List's entries look. A tenth of the counterparties are
planted variants of listed names (another legal form, case, a dropped word, the Chinese name); the rest are
unrelated. The reference is rapidfuzz's own vectorised all-pairs comparison (process.cdist, one worker) of
every normalised counterparty name with every normalised list name, timed on a sample of counterparties and
scaled to all of them; the planted variants it finds on that sample are the recall the screener must keep.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, replace

from chipwatch.lists.counterparties import Counterparty
from chipwatch.lists.names import normalise_name
from chipwatch.lists.screen import DEFAULT_THRESHOLD, Screener
from pipeline.list_changes import diff_lists
from pipeline.list_entries import ListEntry

SYLLABLES = [
    "an",
    "bao",
    "chang",
    "chen",
    "da",
    "de",
    "dong",
    "fang",
    "feng",
    "guang",
    "hai",
    "hao",
    "hua",
    "jia",
    "jian",
    "jin",
    "kai",
    "kang",
    "lan",
    "li",
    "long",
    "ming",
    "nan",
    "ning",
    "peng",
    "qi",
    "qiang",
    "rui",
    "sheng",
    "shi",
    "tai",
    "tian",
    "wei",
    "xin",
    "xing",
    "yang",
    "yi",
    "yong",
    "yu",
    "yuan",
    "zhi",
    "zhong",
    "ko",
    "ri",
    "vo",
    "sta",
    "mar",
    "vel",
    "dor",
    "ka",
    "ne",
    "ro",
    "sa",
    "tek",
    "lin",
]
TRADE_WORDS = [
    "Technology",
    "Electronics",
    "Semiconductor",
    "Microsystems",
    "Computing",
    "Trading",
    "Photonics",
    "Precision",
    "Instruments",
    "Industrial",
    "Logistics",
    "Aerospace",
    "Materials",
    "Optics",
    "Devices",
    "Systems",
    "Research",
    "Institute",
    "Components",
    "Imports",
]
FORMS = ("Co., Ltd.", "Ltd.", "Limited", "LLC", "Inc.", "JSC", "Pte. Ltd.", "GmbH", "Corporation", "")
HANZI = (
    "华为星河蓝汀青山昆仑深度计算微电子科技半导体设备精密仪器光电材料航空研究所贸易物流工业系统信息网络智能芯片集成电路"
)
CN_FORMS = ("有限公司", "股份有限公司", "集团有限公司", "研究院")
COUNTRIES = ("CN", "CN", "CN", "HK", "RU", "IR", "SG", "AE", "TR", "BY", "MY", "PK")
LISTS = (("EL", "Entity List (EL) - Bureau of Industry and Security"),
         ("MEU", "Military End User (MEU) List - Bureau of Industry and Security"),
         ("SDN", "Specially Designated Nationals (SDN) - Treasury Department"))  # fmt: skip


@dataclass(frozen=True)
class DiffTiming:
    entries: int
    seconds: float
    added: int
    removed: int
    changed: int


@dataclass(frozen=True)
class ScreenTiming:
    parties: int
    entries: int
    names: int
    index_seconds: float
    screen_seconds: float
    hits: int
    planted_found: int
    planted: int
    naive_seconds: float  # scaled to every counterparty from the sample
    naive_sample: int
    naive_planted_found: int  # planted variants in the sample the all-pairs comparison finds
    screener_planted_found_in_sample: int
    sample_planted: int

    @property
    def ratio(self) -> float:
        return self.naive_seconds / (self.index_seconds + self.screen_seconds)


def synthetic_list(count: int, seed: int = 11) -> list[ListEntry]:
    rng = random.Random(seed)
    entries: list[ListEntry] = []
    seen: set[str] = set()
    while len(entries) < count:
        words = ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()]
        words += rng.sample(TRADE_WORDS, rng.randint(1, 2))
        name = " ".join([*words, rng.choice(FORMS)]).strip()
        if name in seen:
            continue
        seen.add(name)
        code, list_name = LISTS[rng.randrange(len(LISTS))]
        original = None
        aliases: list[str] = []
        if rng.random() < 0.33:
            original = "".join(rng.sample(HANZI, rng.randint(4, 7))) + rng.choice(CN_FORMS)
            aliases.append(original)
        if rng.random() < 0.4:
            aliases.append(words[0] + " " + words[-1])
        country = rng.choice(COUNTRIES)
        entries.append(
            ListEntry(
                list_code=code,
                list_name=list_name,
                id=f"bench-{len(entries):06d}",
                name=name,
                alt_names=tuple(aliases),
                addresses=(f"{rng.randint(1, 999)} {rng.choice(SYLLABLES).capitalize()} Road, {country}",),
                countries=(country,),
                citation=f"{rng.randint(84, 90)} FR {rng.randint(1000, 99999)}",
                start_date=f"20{rng.randint(18, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                license_requirement="For all items subject to the EAR.",
                license_policy="Presumption of denial.",
                original_name=original,
            )
        )
    return entries


def next_version(entries: list[ListEntry], seed: int = 12) -> list[ListEntry]:
    """The list a month later: 1% added, 0.5% removed, 1% with a new address."""
    rng = random.Random(seed)
    kept = [e for e in entries if rng.random() >= 0.005]
    revised = [
        replace(e, addresses=(f"{rng.randint(1, 999)} New Road, {e.countries[0]}",)) if rng.random() < 0.01 else e
        for e in kept
    ]
    fresh = synthetic_list(len(entries) // 100, seed=seed + 1000)
    fresh = [replace(e, id=f"new-{i:06d}") for i, e in enumerate(fresh)]
    return revised + fresh


def time_diff(count: int) -> DiffTiming:
    before = synthetic_list(count)
    after = next_version(before)
    stored = {entry.key: entry for entry in before}
    started = time.perf_counter()
    changes = diff_lists(stored, after)
    seconds = time.perf_counter() - started
    kinds = [change.kind for change in changes]
    return DiffTiming(count, seconds, kinds.count("added"), kinds.count("removed"), kinds.count("changed"))


def counterparties(entries: list[ListEntry], count: int, seed: int = 13) -> tuple[list[Counterparty], dict[int, str]]:
    """count counterparties, a tenth of them variants of listed names; returns them and row -> planted id."""
    from opencc import OpenCC

    to_traditional = OpenCC("s2t").convert
    rng = random.Random(seed)
    parties, planted = [], {}
    others = synthetic_list(count, seed=seed + 7)
    for row in range(1, count + 1):
        if row % 10 == 0:
            entry = rng.choice(entries)
            chinese = entry.original_name if entry.original_name and entry.original_name.endswith("公司") else None
            variant = rng.choice(("form", "case", "chinese" if chinese else "form"))
            if variant == "chinese" and chinese:
                # The same company under another legal form, in Traditional script.
                stem = chinese.removesuffix("股份有限公司").removesuffix("有限公司")
                name = to_traditional(stem) + "有限公司"
            elif variant == "case":
                name = entry.name.upper().replace(",", "")
            else:
                base = normalise_name(entry.name)
                name = f"{base.title()} {rng.choice(('Company Limited', 'Co Ltd', 'Inc', 'Holdings Limited'))}"
                if "holdings" in name.lower():
                    name = name.replace(" Holdings Limited", " Limited")
            parties.append(Counterparty(row, name, entry.countries[0], f"p{row}"))
            planted[row] = entry.id
        else:
            parties.append(Counterparty(row, others[row - 1].name, rng.choice(COUNTRIES), f"p{row}"))
    return parties, planted


def time_screen(parties_count: int, entries_count: int, naive_sample: int = 250) -> ScreenTiming:
    from rapidfuzz import fuzz, process

    entries = synthetic_list(entries_count)
    records = [{**entry.to_dict(), "source": "bench"} for entry in entries]
    parties, planted = counterparties(entries, parties_count)
    started = time.perf_counter()
    screener = Screener(records)
    indexed = time.perf_counter()
    found: dict[int, set[str]] = {}
    hits = 0
    for party in parties:
        party_hits = screener.screen(party, DEFAULT_THRESHOLD)
        hits += len(party_hits)
        found[party.row] = {hit.entry_id for hit in party_hits}
    finished = time.perf_counter()
    planted_found = sum(1 for row, entry_id in planted.items() if entry_id in found[row])

    # The reference: every sampled counterparty against every name and alias, all pairs, in C++.
    names = [name.normalised for name in screener.names]
    owners = [screener.entries[name.entry]["id"] for name in screener.names]
    sample = parties[:naive_sample]
    queries = [normalise_name(party.name) for party in sample]
    naive_started = time.perf_counter()
    scores = process.cdist(queries, names, scorer=fuzz.token_sort_ratio, score_cutoff=DEFAULT_THRESHOLD, workers=1)
    naive_seconds = (time.perf_counter() - naive_started) * len(parties) / len(sample)
    naive_found = 0
    screener_found = 0
    sample_planted = 0
    for index, party in enumerate(sample):
        if party.row not in planted:
            continue
        sample_planted += 1
        matched = {owners[i] for i in scores[index].nonzero()[0]}
        naive_found += planted[party.row] in matched
        screener_found += planted[party.row] in found[party.row]
    return ScreenTiming(
        parties=len(parties),
        entries=len(entries),
        names=len(screener.names),
        index_seconds=indexed - started,
        screen_seconds=finished - indexed,
        hits=hits,
        planted_found=planted_found,
        planted=len(planted),
        naive_seconds=naive_seconds,
        naive_sample=len(sample),
        naive_planted_found=naive_found,
        screener_planted_found_in_sample=screener_found,
        sample_planted=sample_planted,
    )
