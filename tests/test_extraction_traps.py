"""Pages that trip extractors on real portals, rebuilt as fiction: a story drowned in recommendation and
comment blocks, titles with entities and site suffixes, a meta title cut short at a quote."""

from __future__ import annotations

import re

from pipeline.extract import WIDGET_HEADINGS, WIDGET_MARKERS, WIDGET_PHRASES, extract_page, looks_like_a_widget
from pipeline.metadata import read_metadata

# Fiction written for chipwatch's tests.
PARAGRAPHS = [
    f"虚构报道第{n}段：美国商务部本周批准向部分中国客户出口H200芯片的许可，条件是百分之二十五的销售收入上缴。"
    "分析人士认为，这一安排将影响国内芯片企业的定价与供货节奏，海关与监管部门的后续动作仍待观察。"
    for n in range(1, 13)
]
RECOMMENDED = "".join(
    f'<li><a href="/news/{n}.html">为您推荐：虚构新闻标题第{n}条，芯片市场与出口管制最新动态一览</a>'
    f'<span class="time">2025-12-0{n % 9 + 1}</span></li>'
    for n in range(60)
)
COMMENTS = "".join(
    f'<div class="comment"><p>网友{n}：这是一条虚构的热门评论，讨论芯片和出口的话题，观点仅供测试。</p></div>'
    for n in range(40)
)
PORTAL = f"""<html lang="zh-CN"><head><meta charset="utf-8"><title>虚构H200出口许可获批 芯片企业承压_虚构网</title>
<meta property="og:title" content="虚构H200出口许可获批 芯片企业承压_虚构网"></head><body>
<div class="nav"><a href="/">首页</a><a href="/tech">科技</a></div>
<div class="post_main"><h1>虚构H200出口许可获批 芯片企业承压</h1>
<div class="post_info">2025-12-09 08:20:00 来源：虚构网</div>
<div class="post_body">{"".join(f"<p>{p}</p>" for p in PARAGRAPHS)}</div></div>
<div class="recommend"><h2>为您推荐</h2><ul>{RECOMMENDED}</ul></div>
<div class="comments"><h2>热门评论</h2>{COMMENTS}<h2>最新评论</h2>{COMMENTS}</div>
</body></html>"""


def test_a_portal_article_is_found_under_its_widgets():
    page = extract_page(PORTAL.encode("utf-8"), "https://news.example.cn/article/1.html")
    assert page.text is not None
    assert PARAGRAPHS[0][:20] in page.text and PARAGRAPHS[-1][:20] in page.text
    assert "为您推荐" not in page.text and "网友3" not in page.text
    assert page.title == "虚构H200出口许可获批 芯片企业承压"
    assert page.published == "2025-12-09 08:20:00" or (page.text_date or "").startswith("2025-12-09 08:20")


def test_a_widget_taken_for_the_article_is_noticed():
    from trafilatura.utils import load_html

    tree = load_html(PORTAL)
    metadata = read_metadata(tree)
    widget = "为您推荐：虚构新闻标题第1条 相关推荐 热门评论 " * 30
    assert looks_like_a_widget(widget, tree, metadata)
    assert not looks_like_a_widget("\n".join(PARAGRAPHS), tree, metadata)


def test_widget_markers_find_what_a_plain_alternation_finds() -> None:
    plain = re.compile("|".join([*WIDGET_HEADINGS, *(rf"\b{p}" for p in WIDGET_PHRASES)]), re.I)
    texts = [
        PORTAL,
        "TRENDING now. most popular; More From the desk. comments (12) You May Also Like Recommended for you",
        "retrending, Almost read, 相关推荐相关阅读评论区 網友評論 upcomments(3) Comment (4) trending",
        "\n".join(PARAGRAPHS),
    ]
    for text in texts:
        assert WIDGET_MARKERS.findall(text) == plain.findall(text)
    assert len(WIDGET_MARKERS.findall(texts[1])) == 6 and len(WIDGET_MARKERS.findall(texts[2])) == 6


def page_with(title_tags: str, body: str = "") -> bytes:
    text = "Commerce approved export licences for Nvidia's H200 on Tuesday, officials said. " * 10
    return f"<html><head>{title_tags}</head><body><article>{body}<p>{text}</p></article></body></html>".encode()


def test_titles_lose_entities_and_site_suffixes():
    cases = [
        ('<meta property="og:title" content="Trump&#8217;s H200 deal &raquo; explained | Wire Daily">', "", None),
        ("<title>Nvidia wins H200 licence | The Circuit Ledger</title>", "", "Nvidia wins H200 licence"),
        (
            '<meta property="og:title" content="英伟达H200获准出口 - 虚构新闻"><title>x</title>',
            "",
            "英伟达H200获准出口",
        ),
        (
            '<meta property="og:title" content="Lawmakers say"><meta property="og:site_name" content="Wire">',
            "<h1>Lawmakers say “no” to H200 sales to China</h1>",
            "Lawmakers say “no” to H200 sales to China",
        ),
    ]
    for tags, body, expected in cases:
        title = extract_page(page_with(tags, body), "https://x.test/a").title
        if expected is None:
            assert title is not None and "&#" not in title and "&raquo;" not in title and "’" in title
        else:
            assert title == expected, (tags, title)


def test_the_demo_traps_are_extracted_whole(network):
    from demo.render import render_article

    for article_id in ("hx-h200", "cl-location-verification"):
        article = next(a for a in network.articles if a.id == article_id)
        body, content_type = render_article(network, article, "http://127.0.0.1:8765")
        page = extract_page(body, "http://127.0.0.1:8765" + article.path, content_type=content_type)
        assert page.title == article.title  # entities decoded, " | The Circuit Ledger" taken off
        assert article.paragraphs[0][:15] in page.text and article.paragraphs[-1][:15] in page.text
        assert "为您推荐" not in page.text and "网友001" not in page.text


def test_pages_too_deep_or_too_big_are_named_and_a_deep_enough_one_is_read():
    from pipeline.extract import extract_page

    deep = "<html><body>" + "<div>" * 300 + "<p>text</p>" + "</div>" * 300 + "</body></html>"
    assert (
        extract_page(deep, "https://x.test/a").problem == "page nests elements more than 200 deep; body not extracted"
    )
    fine = (
        "<html><body>" + "<div>" * 150 + "<p>" + "fictional words " * 100 + "</p>" + "</div>" * 150 + "</body></html>"
    )
    page = extract_page(fine, "https://x.test/a")
    assert page.problem is None and "fictional words" in (page.text or "")
    big = "<html><body>" + "<span>x</span>" * 25_000 + "</body></html>"
    assert "25002 HTML elements" in (extract_page(big, "https://x.test/a").problem or "")
