"""Text normalisation shared by the rules, the model features and the corpus.

Theory of operation: callers reach the classifier either as clean text (web, WeChat) or as raw
recogniser output, which has spaces between words, no punctuation, Chinese numerals instead of
digits and some wrong homophones. `normalize` maps both to one canonical form, so the rules and
the model only ever see one spelling:

* Unicode NFKC (full-width letters and digits become ASCII), lower case;
* every character that is not a letter or digit (spaces, punctuation, control bytes) is dropped;
* ASCII digits become Chinese numerals, digit by digit (`120` -> `一二零`), the way a recogniser
  spells a number read out digit by digit;
* a short table of recogniser confusions that matter for routing is folded back.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

_DIGITS: Final = str.maketrans("0123456789", "零一二三四五六七八九")

# Recogniser homophones seen on words that decide routing. Only whole multi-character words are
# folded, never single characters, so a correct sentence is never damaged.
HOMOPHONES: Final[dict[str, str]] = {
    "着伙": "着火",
    "着活": "着火",
    "失伙": "失火",
    "救明": "救命",
    "就命": "救命",
    "煤汽": "煤气",
    "没气味": "煤气味",
    "然气": "燃气",
    "燃起味": "燃气味",
    "泄露": "泄漏",
    "晕到": "晕倒",
    "昏到": "昏倒",
    "抽出": "抽搐",
    "车获": "车祸",
    "反应": "反映",
    "物页": "物业",
    "无业费": "物业费",
    "公暖": "供暖",
    "工暖": "供暖",
    "暖器": "暖气",
    "公积经": "公积金",
    "工积金": "公积金",
    "社报": "社保",
    "医报": "医保",
    "投数": "投诉",
    "举包": "举报",
    "攻单": "工单",
    "公单": "工单",
    "拖钱": "拖欠",
    "工次": "工资",
    "仲才": "仲裁",
    "起述": "起诉",
    "快第": "快递",
    "停点": "停电",
    "停谁": "停水",
}
_HOMOPHONE_RE: Final = re.compile(
    "|".join(re.escape(k) for k in sorted(HOMOPHONES, key=len, reverse=True) if HOMOPHONES[k] != k)
)


def _keep(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in ("L", "N")


def normalize(text: str) -> str:
    """Return the canonical form of `text` (see the module header); never raises on a `str`."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch for ch in text if _keep(ch))
    text = text.translate(_DIGITS)
    return _HOMOPHONE_RE.sub(lambda m: HOMOPHONES[m.group(0)], text)


def han_count(text: str) -> int:
    """How many CJK ideographs `text` holds."""
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf")


def has_mongolian(text: str) -> bool:
    """True when `text` holds traditional Mongolian script."""
    return any("\u1800" <= ch <= "\u18af" for ch in text)
