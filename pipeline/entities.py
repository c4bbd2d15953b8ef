"""Entities named in an article — companies, chips, agencies, bills, people, percentages and money —
normalised across languages and scripts (英伟达, 輝達 and Nvidia are all company:nvidia)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import ahocorasick

from pipeline.language import NOT_AFTER_WORD, NOT_BEFORE_WORD, to_simplified

# kind -> canonical value -> surface forms, written lowercase and in Simplified characters (Traditional
# text is mapped to Simplified before matching).
GAZETTEER: dict[str, dict[str, tuple[str, ...]]] = {
    "company": {
        "nvidia": ("nvidia", "英伟达", "辉达", "英伟达公司"),
        "amd": ("amd", "advanced micro devices", "超微"),
        "intel": ("intel", "英特尔", "英特尔公司"),
        "huawei": ("huawei", "华为"),
        "smic": ("smic", "中芯国际", "中芯"),
        "cambricon": ("cambricon", "寒武纪"),
        "alibaba": ("alibaba", "阿里巴巴", "阿里云", "平头哥"),
        "baidu": ("baidu", "百度"),
        "bytedance": ("bytedance", "字节跳动"),
        "tencent": ("tencent", "腾讯"),
        "tsmc": ("tsmc", "台积电", "台积"),
        "asml": ("asml", "阿斯麦"),
        "samsung": ("samsung", "三星"),
        "sk-hynix": ("sk hynix", "海力士"),
        "micron": ("micron", "美光"),
        "deepseek": ("deepseek",),
        "hygon": ("hygon", "海光"),
        "moore-threads": ("moore threads", "摩尔线程"),
        "super-micro": ("super micro", "supermicro", "美超微"),
        "applied-materials": ("applied materials", "应用材料"),
        "lam-research": ("lam research", "泛林"),
    },
    "chip": {
        "h20": ("h20",),
        "h100": ("h100",),
        "h200": ("h200",),
        "b30a": ("b30a",),
        "blackwell": ("blackwell",),
        "rubin": ("rubin",),
        "mi308": ("mi308",),
        "rtx-pro-6000d": ("rtx pro 6000d", "6000d"),
        "ascend": ("ascend", "昇腾"),
        "ascend-910c": ("910c", "ascend 910c", "昇腾910c"),
        "gaudi": ("gaudi",),
        "hbm": ("hbm", "high-bandwidth memory", "high bandwidth memory", "高带宽内存", "高频宽记忆体"),
    },
    "agency": {
        "bis": (
            "bis",
            "bureau of industry and security",
            "industry and security bureau",
            "工业与安全局",
            "工业和安全局",
        ),
        "us-commerce": ("commerce department", "department of commerce", "u.s. commerce", "美国商务部", "美商务部"),
        "mofcom": (
            "mofcom",
            "china's commerce ministry",
            "chinese commerce ministry",
            "ministry of commerce of the people's republic",
            "中国商务部",
            "商务部新闻发言人",
        ),
        "cac": ("cyberspace administration", "cac", "网信办", "国家互联网信息办公室", "网信部门"),
        "samr": (
            "samr",
            "state administration for market regulation",
            "market regulator",
            "市场监管总局",
            "国家市场监督管理总局",
        ),
        "china-customs": (
            "chinese customs",
            "china's customs",
            "general administration of customs",
            "海关总署",
            "海关",
        ),
        "china-mfa": ("foreign ministry", "外交部"),
        "doj": ("justice department", "department of justice", "司法部"),
        "congress": ("congress", "senate", "house of representatives", "国会", "参议院", "众议院"),
        "white-house": ("white house", "白宫"),
        "federal-register": ("federal register", "联邦公报"),
    },
    "bill": {
        "gain-ai-act": ("gain ai act", "gain ai法案", "gain ai"),
        "safe-chips-act": ("safe chips act", "safe芯片法案", "safe晶片法案"),
        "chip-security-act": ("chip security act", "芯片安全法案", "芯片安全法"),
        "ndaa": ("ndaa", "defense bill", "defence bill", "national defense authorization", "国防授权法"),
        "chips-act": ("chips act", "chips and science act", "芯片法案"),
        "ai-diffusion-rule": ("diffusion rule", "扩散规则"),
        "entity-list": ("entity list", "实体清单"),
    },
    # What happened, named the same way in every language: binds coverage of one development together.
    "event": {
        "smuggling": ("smuggl", "smuggling", "smuggled", "smugglers", "走私"),
        "indictment": ("indictment", "indicted", "charged", "prosecutors", "起诉", "检方"),
        "antitrust": ("antitrust", "anti-monopoly", "antimonopoly", "反垄断", "垄断法"),
        "mellanox": ("mellanox", "迈络思", "迈络斯", "迈络思科技"),
        "backdoor": ("backdoor", "backdoors", "kill switch", "kill switches", "后门", "远程关闭"),
        "summons": ("summoned", "summons", "约谈"),
        "inspection": ("inspection", "inspections", "inspect", "检查", "查验"),
        "revenue-share": ("revenue share", "revenue-sharing", "share of revenue", "cut of", "分成", "抽成", "上缴"),
        "licence": ("licence", "licences", "license", "licenses", "licensing", "许可证", "许可"),
        "rule": ("interim final rule", "the rule", "new rule", "规则"),
        "bill": ("bill", "legislation", "法案", "立法"),
        "letter": ("letter", "wrote", "致函", "去信"),
        "hearing": ("hearing", "听证会"),
        "location-verification": ("location verification", "tracking", "位置验证", "追踪"),
        "domestic-chips": (
            "domestic chips",
            "domestic alternatives",
            "domestic processors",
            "homegrown",
            "国产芯片",
            "国产算力",
            "国产ai芯片",
            "国产替代",
        ),
        "shares": ("shares", "stock", "股价", "股份", "股票"),
        "orders": ("orders", "order", "订单", "采购"),
        "roadmap": ("roadmap", "路线图"),
        "earnings": ("quarter", "guidance", "forecast", "业绩", "财报", "财测"),
        "statement": ("spokesperson", "spokesman", "发言人"),
    },
    "person": {
        "jensen-huang": ("jensen huang", "黄仁勋"),
        "lisa-su": ("lisa su", "苏姿丰"),
        "donald-trump": ("trump", "特朗普", "川普"),
        "xi-jinping": ("xi jinping", "习近平"),
        "howard-lutnick": ("lutnick", "卢特尼克"),
    },
}
CJK = re.compile(r"[\u3400-\u9fff]")
PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*(?:%|％|percent|per cent)")
CHINESE_PERCENT = re.compile(r"百分之(十五|二十五|十|五|二十|五十|一百)")
CHINESE_NUMBERS = {"五": "5", "十": "10", "十五": "15", "二十": "20", "二十五": "25", "五十": "50", "一百": "100"}
MONEY = re.compile(r"\$\s?(\d+(?:\.\d+)?)\s*(billion|million|bn|m)\b")
CHINESE_MONEY = re.compile(r"(\d+(?:\.\d+)?)\s*(亿|万)\s*美元")
FR_CITATION = re.compile(r"\b(\d{1,3})\s*fr\s*(\d{1,6})\b", re.IGNORECASE)
MONEY_SCALE = {"billion": 1e9, "bn": 1e9, "million": 1e6, "m": 1e6, "亿": 1e8, "万": 1e4}


@dataclass(frozen=True)
class Entity:
    kind: str
    value: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}"


@cache
def _patterns() -> list[tuple[str, re.Pattern[str], Entity]]:
    """Every surface form's pattern, compiled the first time entities are looked for (not on import: the
    crawl's spiders import this module for citation_key, before its first request)."""
    patterns = []
    for kind, values in GAZETTEER.items():
        for value, surfaces in values.items():
            for surface in surfaces:
                escaped = re.escape(surface)
                pattern = escaped if CJK.search(surface) else f"{NOT_AFTER_WORD}{escaped}{NOT_BEFORE_WORD}"
                literal = surface
                patterns.append((literal, re.compile(pattern), Entity(kind, value)))
    return patterns


@cache
def _finder() -> Any:
    """An Aho-Corasick automaton over every surface form: one pass over a text finds the few that occur,
    where a substring search for each of the gazetteer's forms took most of the time entities cost."""
    automaton = ahocorasick.Automaton()
    for literal, _, _ in _patterns():
        automaton.add_word(literal, literal)
    automaton.make_automaton()
    return automaton


def compile_patterns() -> None:
    """Compile the gazetteer's patterns and its finder now (a warm-up before the first article needs them)."""
    _finder()


def extract_entities(title: str | None, text: str | None) -> list[Entity]:
    """The distinct entities in an article, in a stable order."""
    haystack = to_simplified(f"{title or ''}\n{text or ''}"[:20_000].lower())
    found: set[Entity] = set()
    present = {literal for _, literal in _finder().iter(haystack)}
    for literal, pattern, entity in _patterns():
        if literal in present and entity not in found and pattern.search(haystack):
            found.add(entity)
    for match in PERCENT.finditer(haystack):
        found.add(Entity("percent", _number(match.group(1)) + "%"))
    for match in CHINESE_PERCENT.finditer(haystack):
        found.add(Entity("percent", CHINESE_NUMBERS[match.group(1)] + "%"))
    for match in MONEY.finditer(haystack):
        found.add(Entity("money", _usd(float(match.group(1)) * MONEY_SCALE[match.group(2)])))
    for match in CHINESE_MONEY.finditer(haystack):
        found.add(Entity("money", _usd(float(match.group(1)) * MONEY_SCALE[match.group(2)])))
    for match in FR_CITATION.finditer(haystack):
        found.add(Entity("citation", f"{match.group(1)}-fr-{match.group(2)}"))
    # "Ascend 910C" is both the chip family and the model; keep the specific one only when both match.
    return sorted(found, key=lambda e: (e.kind, e.value))


def _number(text: str) -> str:
    value = float(text)
    return str(int(value)) if value.is_integer() else str(value)


def _usd(amount: float) -> str:
    """usd:5.5b, usd:800m — rounded so that $5.5 billion and 55亿美元 agree."""
    if amount >= 1e9:
        return f"usd:{round(amount / 1e9, 1):g}b"
    return f"usd:{round(amount / 1e6):g}m"


def _names() -> dict[str, tuple[str, ...]]:
    """Every surface form (lowercase, Simplified) -> all the names of its entity."""
    names: dict[str, tuple[str, ...]] = {}
    for kind in ("company", "chip", "agency", "person", "bill"):
        for surfaces in GAZETTEER.get(kind, {}).values():
            for surface in surfaces:
                names[surface] = surfaces
    return names


NAMES = _names()


def other_names(term: str) -> tuple[str, ...]:
    """The names a search term is also known by (英伟达 -> nvidia, 辉达 ...), itself first; () when the term
    names no known entity. Matching is on lowercase Simplified text, like the gazetteer."""
    key = to_simplified(" ".join(term.lower().split()))
    names = NAMES.get(key)
    if not names:
        return ()
    return (term, *[name for name in names if name != key])


def with_other_names(query: str) -> str:
    """A search query with every word or phrase that names a known entity widened to all its names:
    英伟达 -> ("英伟达" OR "nvidia" OR "辉达" ...). Operators, parentheses and prefix searches stay as typed."""
    from storage.fts import OPERATORS, QUERY_TOKEN

    parts = []
    for token in QUERY_TOKEN.findall(query):
        plain = token not in ("(", ")") and token not in OPERATORS and not token.endswith("*")
        names = other_names(token.strip('"')) if plain else ()
        if len(names) > 1:
            parts.append("(" + " OR ".join('"' + name.replace('"', "") + '"' for name in names) + ")")
        else:
            parts.append(token)
    return " ".join(parts)


ACRONYMS = {"amd", "smic", "tsmc", "asml", "ai"}


def english_label(key: str) -> str | None:
    """An entity key (company:nvidia, chip:h200, agency:samr, percent:25, usd:5b) as an English reader
    writes it (Nvidia, H200, SAMR, 25%, $5bn); None for kinds with no name to show (events)."""
    kind, _, value = key.partition(":")
    if not value or kind == "event":
        return None
    if kind in ("chip", "agency"):
        return value.upper()
    if kind == "percent":
        return f"{value}%"
    if kind == "usd":
        return f"${value[:-1]}{'bn' if value.endswith('b') else 'm'}"
    words = value.replace("-", " ").split()
    return " ".join(word.upper() if word in ACRONYMS or len(word) <= 2 else word.capitalize() for word in words)


def citation_key(citation: str | None) -> str | None:
    """ "90 FR 12345" as the entity key citation:90-fr-12345, shared by a rule and the list changes it made."""
    match = FR_CITATION.search(citation or "")
    return f"citation:{match.group(1)}-fr-{match.group(2)}" if match else None
