"""The classifier: rules plus the trained model, in English, Simplified and Traditional Chinese."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from chipwatch.config import ClassifyOptions
from chipwatch.errors import ConfigError
from pipeline.classify import TOPIC_IDS, classify, load_classifier
from pipeline.language import to_simplified
from pipeline.rules import _compile, _Matcher, load_rules, score_rules

OPTIONS = ClassifyOptions()


@pytest.fixture(scope="module")
def classifier():
    return load_classifier(OPTIONS.topics, OPTIONS.model)


@pytest.fixture(scope="module")
def rules_only():
    return load_classifier(OPTIONS.topics, None)


# Written for these tests, in phrasings the corpus does not use.
RELEVANT = [
    (
        "Washington widens list of AI processors needing a licence for Chinese buyers",
        "The rule covers accelerators above a lower performance bar.",
        "export-controls",
    ),
    (
        "Chipmakers to hand a fifth of China chip proceeds to the government, report says",
        "The payment would be a condition of the export licences for Nvidia and AMD.",
        "revenue-share",
    ),
    (
        "Senate hawks unveil measure to freeze AI chip licences for China",
        "The bipartisan bill would bar Commerce from approving exports of Nvidia's H200.",
        "legislation",
    ),
    (
        "北京召见英伟达 就芯片安全问题要求说明",
        "网信办约谈英伟达，要求其说明H20芯片是否存在后门风险。",
        "china-response",
    ),
    ("華為新一代昇騰晶片量產 國產替代加速", "中國網路企業擴大採用國產AI晶片，以減少對輝達的依賴。", "china-chips"),
    ("美检方起诉三人走私英伟达芯片", "被告涉嫌通过马来西亚转运H100芯片至中国，违反美国出口管制。", "enforcement"),
    (
        "Nvidia stock drops as China sales outlook dims under export curbs",
        "Analysts cut revenue forecasts after Beijing urged buyers to avoid the H20.",
        "market",
    ),
    (
        "Huang: export limits hand China's AI market to Huawei",
        "Nvidia's chief executive again urged Washington to let the company sell more advanced chips in China.",
        "industry",
    ),
]


@pytest.mark.parametrize("title, text, topic", RELEVANT)
def test_relevant_items_get_the_right_topic(classifier, title, text, topic):
    result = classify(classifier, title, text)
    assert result.relevant
    assert topic in [t.id for t in result.topics[:2]]
    assert all(t.evidence for t in result.topics)
    assert all(0 < t.score <= 1 for t in result.topics)
    assert [t.score for t in result.topics] == sorted((t.score for t in result.topics), reverse=True)


DISTRACTORS = [
    ("The best graphics cards for gaming", "Nvidia GeForce RTX GPUs lead our gaming benchmarks."),
    ("Potato chip maker launches new flavour in China", "Sales of chips in China grew."),
    ("CHIPS Act grant for Arizona fab", "The Commerce Department finalised the semiconductor subsidy."),
    ("Nvidia revenue tops forecasts on cloud demand", "Data-center sales rose as US hyperscalers expanded."),
    ("薯片新口味上市", "零食企业推出新口味薯片。"),
    ("中美大豆贸易回暖", "美国大豆到港量增加。"),
    ("華為新手機開賣 門市大排長龍", "旗艦手機搭載新處理器，相機與續航升級。"),
    ("", ""),
]


@pytest.mark.parametrize("title, text", DISTRACTORS)
def test_distractors_are_not_relevant(classifier, title, text):
    result = classify(classifier, title, text)
    assert not result.relevant
    assert result.topics == []


def test_both_chinese_scripts_score_alike(classifier):
    simplified = classify(
        classifier, "英伟达H200获准出口中国", "美国商务部批准英伟达向中国客户出售H200芯片，政府抽成25%。"
    )
    traditional = classify(
        classifier, "輝達H200獲准出口中國", "美國商務部批准輝達向中國客戶出售H200晶片，政府抽成25%。"
    )
    assert simplified.relevant and traditional.relevant
    assert abs(simplified.relevance - traditional.relevance) < 0.1
    assert simplified.topics[0].id == traditional.topics[0].id


def test_evidence_quotes_the_text_as_written(classifier):
    result = classify(classifier, "輝達H200獲准出口", "美國商務部核發出口許可，政府分成25%。")
    evidence = [phrase for topic in result.topics for phrase in topic.evidence]
    assert any(phrase in "輝達H200獲准出口 美國商務部核發出口許可，政府分成25%。" for phrase in evidence)


def test_html_left_in_text_is_read_as_text(classifier):
    plain = classify(classifier, "US bars Nvidia H20 sales to China", "Commerce requires an export licence.")
    html = classify(
        classifier,
        "<b>US bars Nvidia H20 sales to China</b>",
        "<p>Commerce requires an <a href='x'>export licence</a>.</p><script>var x = 1;</script>",
    )
    assert html.relevant == plain.relevant
    assert [t.id for t in html.topics] == [t.id for t in plain.topics]


@pytest.mark.parametrize(
    "title, text",
    [
        ("🚀🚀 H200 to China?! 🇺🇸🇨🇳", "🤖" * 1000),
        ("Nvidia H200 中国 出口管制 Экспорт", "Mixed 英文 and 中文 and русский text about 芯片 licences."),
        ("x", "export controls on chips to China " * 40_000),  # over 1 MB
        ("\x00\x01", "\ufffd\ufffd"),
    ],
)
def test_odd_input_never_crashes(classifier, title, text):
    result = classify(classifier, title, text)
    assert 0 <= result.relevance <= 1


def test_rules_alone_work_without_a_model(rules_only):
    result = classify(rules_only, "US to allow Nvidia H200 sales to China", "Commerce will license exports.")
    assert result.relevant and result.topics[0].id == "export-controls"
    assert result.model_version.startswith("rules-")


def test_model_version_names_both_parts(classifier):
    version = classify(classifier, "x", "y").model_version
    assert version.startswith("linear-") and "+rules-" in version


def test_h20_does_not_match_inside_h200():
    rules = load_rules(OPTIONS.topics)
    assert score_rules(rules, "H200", "").relevance == score_rules(rules, "H200 H200", "").relevance
    h20 = score_rules(rules, "H20", "")
    assert h20.relevance == score_rules(rules, "H20 H20", "").relevance


def test_a_phrase_is_found_after_its_literal_first_occurs_inside_another_word():
    """A phrase whose matches start with its literal is searched from the literal's first occurrence on;
    that occurrence may fail the whole-word check, and a later one still matches (a lookbehind sees the
    character before where the search starts). A phrase whose literal is not its start is searched whole."""
    ban = _compile("ban", 1.0)
    assert ban.leads
    assert _Matcher("urban banking, then a ban", "urban banking, then a ban").match(ban) == "ban"
    assert _Matcher("urban banking", "urban banking").match(ban) is None
    sales = _compile("allow* sales", 1.0)
    assert not sales.leads  # its literal is " sales", after a word of any ending
    text = "a ban on sales; they allowed sales"
    assert _Matcher(text, text).match(sales) == "allowed sales"


def test_rules_version_changes_with_the_topics_file(tmp_path):
    original = OPTIONS.topics.read_text(encoding="utf-8")
    changed = tmp_path / "topics.toml"
    changed.write_text(original.replace('"smuggl*" = 3.0', '"smuggl*" = 2.0', 1), encoding="utf-8")
    assert load_rules(changed).version != load_rules(OPTIONS.topics).version


def test_broken_topics_and_model_files_are_config_errors(tmp_path):
    broken = tmp_path / "topics.toml"
    broken.write_text('version = "x"\n[[topic]]\nid = "market"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="topics missing"):
        load_rules(broken)
    with pytest.raises(ConfigError, match="not found"):
        load_rules(Path(tmp_path / "nope.toml"))
    bad_model = tmp_path / "model.json"
    bad_model.write_text("{not json")
    with pytest.raises(ConfigError, match="not a chipwatch model"):
        load_classifier(OPTIONS.topics, bad_model)
    with pytest.raises(ConfigError, match="chipwatch train"):
        load_classifier(OPTIONS.topics, tmp_path / "missing.json")


def test_every_topic_id_is_defined():
    assert [t.id for t in load_rules(OPTIONS.topics).topics] == list(TOPIC_IDS)


def test_the_one_pass_literal_finder_finds_exactly_the_literals_a_substring_search_finds(rules_only):
    """score_rules looks for its ~800 literals in one Aho-Corasick pass; it must find the same set as asking
    for each literal in turn, across scripts, overlaps and word edges."""
    model = rules_only.rules
    literals = [literal for literal in model.literals if literal]
    samples = [
        "nvidia h200 export licence to china, 25% revenue share; the h20 ban",
        "英伟达h200芯片出口 商务部 海关总署 反垄断调查 昇腾910c",
        "輝達晶片出口管制，美國商務部",
        "blue chips and potato chips at the casino",
        "",
        " ".join(literals[::7]),  # many literals at once, touching each other
        "".join(literals[3::11]),  # run together, overlapping at their edges
    ]
    for text in samples:
        hay = text.lower()
        assert model.present(hay) == {literal for literal in model.literals if literal in hay}, text[:60]


def test_scoring_only_the_groups_whose_literals_occur_gives_what_weighing_every_phrase_gives(rules_only):
    """score_rules visits only the groups whose literals the text holds; scoring every phrase of every group
    the plain way must give the same relevance, topics and evidence."""
    model = rules_only.rules

    def plain(title: str, text: str) -> tuple[float, dict[str, tuple[float, list[str]]]]:
        hays = [(to_simplified(value.lower()), value) for value in (title, text)]

        def weigh(phrases):
            scored = {}
            for weight_factor, (hay, original) in zip((1.5, 1.0), hays, strict=True):
                for phrase in phrases:
                    match = phrase.pattern.search(hay)
                    if match and phrase.text not in scored:
                        seen = original[match.start() : match.end()] if len(hay) == len(original) else match.group()
                        scored[phrase.text] = (phrase.weight * weight_factor, seen)
            return sum(weight for weight, _ in scored.values()), scored

        groups = {name: weigh(phrases)[0] for name, phrases in model.groups.items()}
        raw = min(groups["subject"], 2.0) * (min(groups["policy"], 3.0) + min(groups["china"], 2.0))
        relevance = 1 - math.exp(-max(raw - groups["negative"] * 2, 0.0) / model.scale)
        topics = {}
        for topic in model.topics:
            total, scored = weigh(topic.phrases)
            if total > 0:
                topics[topic.id] = (1 - math.exp(-total / 5.0), {seen.lower() for _, seen in scored.values()})
        return relevance, topics

    samples = [
        (
            "US lets Nvidia sell H200 chips to China for a 25% cut",
            "Commerce will license sales; Beijing's SAMR probes.",
        ),
        ("英伟达H200芯片获准对华出口", "美国商务部批准出口许可，中国海关加强检查，华为昇腾加速。"),
        ("輝達H20晶片遭約談", "國家網信辦約談輝達，要求說明後門風險；美國商務部出口管制。"),
        ("Blue chips rally", "Potato chips and casino chips: nothing about export controls or Nvidia."),
        ("", ""),
        ("Smuggling charges over AI chips", "Prosecutors say GPUs were smuggled via Singapore; antitrust aside."),
    ]
    for title, text in samples:
        scores = score_rules(model, title, text)
        relevance, topics = plain(title, text)
        assert scores.relevance == pytest.approx(relevance), title
        assert set(scores.topics) == set(topics), title
        for topic, (value, evidence) in scores.topics.items():
            assert value == pytest.approx(topics[topic][0]), (title, topic)
            seen = topics[topic][1]  # evidence: the strongest five of what matched, once each
            assert {quote.lower() for quote in evidence} <= seen and len(evidence) == min(5, len(seen)), topic


def test_word_edges_written_as_two_lookarounds_match_what_one_class_matches(rules_only):
    """Every phrase and entity pattern is written with one lookaround per range of word characters
    (pipeline/language.py, quicker to compile); each must find what the single class finds, at the same
    place, where word edges are accented letters, the characters just outside those ranges, digits and CJK."""
    import re

    from pipeline.entities import _patterns
    from pipeline.language import NOT_AFTER_WORD, NOT_BEFORE_WORD, WORD

    def single_class(source: str) -> re.Pattern[str]:
        return re.compile(source.replace(NOT_AFTER_WORD, f"(?<![{WORD}])").replace(NOT_BEFORE_WORD, f"(?![{WORD}])"))

    phrases = [phrase for placed in rules_only.rules.placements.values() for _, phrase in placed]
    patterns = [(phrase.pattern, single_class(phrase.source)) for phrase in phrases]
    patterns += [(pattern, single_class(pattern.pattern)) for _, pattern, _ in _patterns()]
    assert sum(NOT_AFTER_WORD in new.pattern for new, _ in patterns) > 500  # the edges are there to test
    literals = sorted({phrase.literal for phrase in phrases if phrase.literal.isascii()})[:400]
    edges = ["", " ", "é", "ß", "ɏ", "ɐ", "¿", "×", "a", "0", "_", "-", "中", "ё"]
    texts = [
        "".join(f"{before}{literal}{after} " for literal in literals)
        for before, after in zip(edges, reversed(edges), strict=True)
    ]
    texts += [to_simplified(f"{title} {text}".lower()) for title, text, _ in RELEVANT]
    for new, old in patterns:
        for text in texts:
            found, expected = new.search(text), old.search(text)
            assert (found and found.span()) == (expected and expected.span()), (new.pattern, text[:40])
