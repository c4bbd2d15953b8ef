"""The first classifier: relevance and topics in English, Simplified and Traditional Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest

from chipwatch.config import ClassifyOptions
from chipwatch.errors import ConfigError
from pipeline.classify import TOPIC_IDS, classify, load_model


@pytest.fixture(scope="module")
def model():
    return load_model(ClassifyOptions().topics)


@pytest.mark.parametrize(
    "title, text, topic",
    [
        (
            "US to allow Nvidia H200 sales to China",
            "Commerce will license exports to approved customers.",
            "export-controls",
        ),
        (
            "Nvidia agrees to pay 15% of China chip revenue",
            "The revenue share covers H20 sales to China.",
            "revenue-share",
        ),
        ("Senators file bill to block AI chip sales to China", "The legislation targets Nvidia's H200.", "legislation"),
        ("网信办约谈英伟达", "要求说明H20芯片后门安全风险，中方坚决反对。", "china-response"),
        ("華為昇騰晶片路線圖出爐", "中國推動國產晶片自主可控，減少對輝達的依賴，應對美國出口管制。", "china-chips"),
        ("美司法部起诉走私英伟达芯片", "被告经第三地转运H100芯片至中国，违反出口管制。", "enforcement"),
        ("Nvidia shares rise after China chip export decision", "Investors expect H200 orders from China.", "market"),
    ],
)
def test_relevant_items_get_the_right_primary_topic(model, title, text, topic):
    result = classify(model, title, text)
    assert result.relevant
    assert topic in [t.id for t in result.topics[:2]]
    assert all(t.evidence for t in result.topics)
    assert all(0 < t.score <= 1 for t in result.topics)
    assert result.topics == sorted(result.topics, key=lambda t: -t.score)


@pytest.mark.parametrize(
    "title, text",
    [
        ("The best graphics cards for gaming", "Nvidia GeForce RTX GPUs lead our gaming benchmarks."),
        ("Potato chip maker launches new flavour in China", "Sales of chips in China grew."),
        ("CHIPS Act grant for Arizona fab", "The Commerce Department finalised the semiconductor subsidy."),
        ("薯片新口味上市", "零食企业推出新口味薯片。"),
        ("中美大豆贸易回暖", "美国大豆到港量增加。"),
        ("", ""),
    ],
)
def test_distractors_are_not_relevant(model, title, text):
    result = classify(model, title, text)
    assert not result.relevant
    assert result.topics == []


def test_evidence_quotes_the_text_as_written(model):
    result = classify(model, "輝達H200獲准出口", "美國商務部核發出口許可，政府分成25%。")
    evidence = [phrase for topic in result.topics for phrase in topic.evidence]
    assert "美國商務部" in evidence or "出口許可" in evidence


def test_h20_does_not_match_inside_h200(model):
    result = classify(model, "H200", "")
    assert result.relevance == classify(model, "H200 H200", "").relevance


def test_model_version_changes_with_the_topics_file(tmp_path):
    original = ClassifyOptions().topics.read_text(encoding="utf-8")
    changed = tmp_path / "topics.toml"
    changed.write_text(original.replace('"smuggl*" = 3.0', '"smuggl*" = 2.0'), encoding="utf-8")
    assert load_model(changed).version != load_model(ClassifyOptions().topics).version


def test_a_topics_file_missing_a_topic_is_rejected(tmp_path):
    broken = tmp_path / "topics.toml"
    broken.write_text('version = "x"\n[[topic]]\nid = "market"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="topics missing"):
        load_model(broken)
    with pytest.raises(ConfigError, match="not found"):
        load_model(Path(tmp_path / "nope.toml"))


def test_every_topic_id_is_defined(model):
    assert [t.id for t in model.topics] == list(TOPIC_IDS)
