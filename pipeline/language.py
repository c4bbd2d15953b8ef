"""Language codes: en, zh-Hans, zh-Hant, otherwise the two-letter code.

Chinese pages often declare the wrong variant (zh-CN on a Traditional page), so for Chinese text the
script is decided by counting characters that exist in only one of the two scripts.
"""

from __future__ import annotations

import re

# Common characters written differently in the two scripts, aligned pair by pair (simplified, traditional).
# They decide which script a Chinese text is in, and map Traditional to Simplified for matching.
SIMPLIFIED = (
    "这国说发对时会为们来个经进过还关业产开长问门动与见体点电实现学东车报场处头华书无术贸达伟数据资应该总统"
    "财务网闻规则显称导机构调议审计销价额币间级线终约软区历众边领认识论设组织运输让变积极韩许证项较样辉"
    "记编辑条权责质环节办购买卖临职单仅亿万优势腾讯监员两党态击战军备从虽没险风缓压强惩违诉讼检验试测"
    "读类货换汇盘损润话语纪垄断龙归签宽严紧维护团队阶际离难杂亚欧纳罚厂营订转涨谈参"
    "将续简库灵广状带尔兴药远连选递适划创协双启围图块坚夺奋宁宝层岁岛师张弹录忆怀恶惊执扩扫抢担拟择挥敌旧晓杀标树档桥梦欢毕气汉泽洁浅济浓热灾烟爱独献画疗盖盐码础确种稳窃竞笔筑"
)
TRADITIONAL = (
    "這國說發對時會為們來個經進過還關業產開長問門動與見體點電實現學東車報場處頭華書無術貿達偉數據資應該總統"
    "財務網聞規則顯稱導機構調議審計銷價額幣間級線終約軟區歷眾邊領認識論設組織運輸讓變積極韓許證項較樣輝"
    "記編輯條權責質環節辦購買賣臨職單僅億萬優勢騰訊監員兩黨態擊戰軍備從雖沒險風緩壓強懲違訴訟檢驗試測"
    "讀類貨換匯盤損潤話語紀壟斷龍歸簽寬嚴緊維護團隊階際離難雜亞歐納罰廠營訂轉漲談參"
    "將續簡庫靈廣狀帶爾興藥遠連選遞適劃創協雙啟圍圖塊堅奪奮寧寶層歲島師張彈錄憶懷惡驚執擴掃搶擔擬擇揮敵舊曉殺標樹檔橋夢歡畢氣漢澤潔淺濟濃熱災煙愛獨獻畫療蓋鹽碼礎確種穩竊競筆築"
)
# Traditional forms whose simplified form is also an ordinary traditional character (後 -> 后, 複 -> 复):
# right for matching, useless for telling the scripts apart.
EXTRA_T2S = {"後": "后", "複": "复", "復": "复", "裡": "里", "鬆": "松", "於": "于", "隻": "只", "製": "制"}
# Either script's own characters, found by a scan in C (a loop over a page's characters in Python took 50 us).
SIMPLIFIED_ONLY = re.compile("[" + re.escape("".join(sorted(set(SIMPLIFIED)))) + "]")
TRADITIONAL_ONLY = re.compile("[" + re.escape("".join(sorted(set(TRADITIONAL)))) + "]")
T2S = str.maketrans({**dict(zip(TRADITIONAL, SIMPLIFIED, strict=True)), **EXTRA_T2S})
HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
HAS_TRADITIONAL = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(T2S)) + "]")
LATIN_LETTER = re.compile(r"[A-Za-z]")
LETTER = re.compile(r"[^\W\d_]")
# Letters and digits that continue a word: ASCII and accented Latin, not CJK ("輝達H20晶片" contains h20).
WORD = "a-z0-9\u00c0-\u024f"
# Not after, and not before, such a character: one lookaround per range matches what one class holding both
# ranges matches, and compiles in a third of the time (a class reaching past U+00FF makes the re module
# build a table of every code point, for each of the thousand phrase and entity patterns a crawl compiles).
NOT_AFTER_WORD = r"(?<![a-z0-9])(?<![\u00c0-\u024f])"
NOT_BEFORE_WORD = r"(?![a-z0-9])(?![\u00c0-\u024f])"

DECLARED_ALIASES = {
    "zh-cn": "zh-Hans",
    "zh-sg": "zh-Hans",
    "zh-hans": "zh-Hans",
    "zh-hans-cn": "zh-Hans",
    "zh-tw": "zh-Hant",
    "zh-hk": "zh-Hant",
    "zh-mo": "zh-Hant",
    "zh-hant": "zh-Hant",
    "zh-hant-tw": "zh-Hant",
    "zh-hant-hk": "zh-Hant",
}


def normalise_lang(code: str | None) -> str | None:
    """A declared language tag (en-US, zh_CN, zh-Hant-TW, ...) as chipwatch writes it."""
    if not code:
        return None
    code = code.strip().replace("_", "-").lower()
    if not code or not re.match(r"^[a-z]{2,3}(-[a-z0-9]+)*$", code):
        return None
    if code in DECLARED_ALIASES:
        return DECLARED_ALIASES[code]
    primary = code.split("-")[0]
    return "zh" if primary in ("zh", "zho", "chi") else primary


def to_simplified(text: str) -> str:
    """Traditional characters mapped to Simplified (for matching, not for display)."""
    # translate() looks every character up in a table; most text has nothing to map, and finding that out
    # in one regex scan is several times faster.
    if text.isascii() or not HAS_TRADITIONAL.search(text):
        return text
    return text.translate(T2S)


def chinese_script(text: str) -> str:
    """zh-Hant or zh-Hans, by which script's own characters are more common."""
    simplified = len(SIMPLIFIED_ONLY.findall(text))
    traditional = len(TRADITIONAL_ONLY.findall(text))
    return "zh-Hant" if traditional > simplified else "zh-Hans"


def detect_language(text: str, *declared: str | None) -> str:
    """The article's language from its text, using declared tags (page, then source) where text is unclear."""
    sample = text[:5000]
    han = len(HAN.findall(sample))
    letters = len(LETTER.findall(sample))
    if letters and han / letters > 0.3:
        return chinese_script(sample)
    for code in declared:
        normalised = normalise_lang(code)
        if normalised and not normalised.startswith("zh"):
            return normalised
    if letters and len(LATIN_LETTER.findall(sample)) / letters > 0.9:
        return "en"
    return "und"
