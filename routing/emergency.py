"""Emergency rules: does the caller need 110, 119, 120 or 122 now?

Theory of operation: rules run first and are tuned for recall, because a missed emergency is the
worst error this system can make. Every pattern is matched on the normalised text (no spaces,
no punctuation, canonical homophones; see routing.text), so recogniser output matches like clean
text. A match is set aside only when the words just before it say it is not happening now:
negation (没着火), the past (上次着火的事) or a hypothesis (万一漏气); and even then a
present-tense cue anywhere in the text (现在还在冒烟, 快来人) puts it back. When more than one
number matches, an explicit request for a service (叫救护车) decides, then the precedence
122 > 119 > 110 > 120: an accident with injuries is a 122 case, a fire with injuries a 119
case, violence with blood a 110 case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from routing.taxonomy import EmergencyNumber

# (number, pattern). Patterns are on normalised text: digits already read out (120 -> 一二零).
PATTERNS: Final[tuple[tuple[EmergencyNumber, str], ...]] = (
    # 119: fire, smoke, gas, explosion, people trapped
    # 着火 but not a stove that will not light (打不着火)
    ("119", r"(?<!打不)(?<!点不)(?<!打得)着火|失火|起火|火灾|烧起来|着起来|火苗|火势|大火|火光"),
    ("119", r"火(很|挺|特别|太|老)大|冒烟|全是烟|浓烟|烟(很|挺|特别|太)大|有烟"),
    ("119", r"煤气味|燃气味|天然气味|液化气味|漏气|气体泄漏|煤气泄漏|燃气泄漏|一股气味"),
    ("119", r"爆炸|炸了"),
    ("119", r"被困|困在|困住|(锁|关)在.{0,6}出不来"),
    # 110: violence, threats, crime in progress, suicide risk, person in water
    ("110", r"打架|打人|斗殴|砍人|持刀|拿着?刀|捅人|捅了|见血|群殴|打我|揍我|家暴"),
    ("110", r"砸门|要杀|杀人|弄死我|威胁|绑架|抢劫|抢我|抢了我|抢包|闯进|入室"),
    ("110", r"[在再]撬|撬开|撬车|撬门|撬锁|[在再]偷|偷车"),
    ("110", r"小偷.{0,10}(还在|就在|在前面|能看见|跑)"),
    ("110", r"跳楼|跳河|跳桥|轻生|自杀|不想活|活着没意思|寻死|割腕|想死"),
    ("110", r"落水|掉水里|掉河里|掉进河|溺水|淹着了|掉冰窟窿"),
    ("110", r"(孩子|女儿|儿子|闺女).{0,6}(被人?带走|被抱走|被拐|找不着了|丢了)"),
    # 120: medical emergency
    ("120", r"晕倒|昏倒|昏过去|晕过去|叫不醒|不省人事|没反应|倒地|倒在地上|昏迷"),
    ("120", r"没呼吸|没有呼吸|喘不上气|上不来气|呼吸困难|心跳.{0,4}(没|停)|心脏骤停"),
    ("120", r"心脏病犯|心梗|脑梗|中风|半边身子|说不出话|抽搐|口吐白沫"),
    ("120", r"流了?(好多|很多|一地)血|大出血|血止不住|流血不止|大口子"),
    ("120", r"中毒|喝了?农药|吃了?安眠药|吃了?老鼠药|吃了.{0,4}(好多|很多|一瓶)"),
    ("120", r"要生了|羊水|破水|早产"),
    (
        "120",
        r"摔下来|不能动了|动不了|起不来|救护车|(?<![零一二三四五六七八九])[一幺]二零(?![零一二三四五六七八九])",
    ),
    # 122: traffic accident
    ("122", r"车祸|被车撞|撞倒|撞人|撞了|撞一块|相撞|追尾|肇事|逃逸|撞到|撞伤"),
    ("122", r"车.{0,6}(刮倒|剐倒|刮了|蹭倒)|(刮倒|剐倒)了?(我|人|老人|孩子)"),
    ("122", r"(车|货车|三轮|轿车|大车|客车|公交).{0,4}翻了|翻车"),
)
# A cry for help with nothing more specific goes to the police.
GENERIC: Final = re.compile(r"救命啊|救命呀|喊救命|救救我|救救他|救救她|来人啊")
# Asking for one service by name decides between several matching numbers.
EXPLICIT: Final[tuple[tuple[EmergencyNumber, str], ...]] = (
    ("120", r"救护车|一二零|幺二零|急救"),
    ("119", r"消防|一一九|幺幺九|灭火"),
    ("110", r"报警|警察|一一零|幺幺零"),
    ("122", r"交警|一二二|幺二二"),
)
PRECEDENCE: Final[tuple[EmergencyNumber, ...]] = ("122", "119", "110", "120")

# Words just before a match that make it not-now. Looked for in the same clause, up to
# SUPPRESS_WINDOW characters back.
NEGATION: Final = re.compile(
    r"(没|没有|不是|并没|别|未|不会|防|预防|以防|防止|避免|防范)(也|都|有)?$"
)
NOT_NOW: Final = re.compile(
    r"上次|上回|之前|以前|去年|前年|上个月|上礼拜|上周|前几天|前些天|前两天|那次|当时|年前|"
    r"万一|如果|要是|假如|一旦|怕|容易|会不会|是不是会|"
    r"投诉|报销|理赔|赔偿|赔钱|丧葬|走了"
)
# The same, said after the match ("不是现在，是以前的事").
NOT_NOW_AFTER: Final = re.compile(r"不是现在|以前的事|之前的事|早就过去|已经过去|已经处理|已经好了")
NOT_NOW_AFTER_WINDOW: Final = 24
PRESENT: Final = re.compile(
    r"现在还|正在|还在(烧|冒|打|流|漏)|快来人|快派|赶紧来|快救|救命啊|救命呀|救救|快点来|快来救|"
    r"现在.{0,4}(着|冒|打|流|昏|晕)"
)
SUPPRESS_WINDOW: Final = 14

_PATTERNS: Final = tuple((n, re.compile(p)) for n, p in PATTERNS)
_EXPLICIT: Final = tuple((n, re.compile(p)) for n, p in EXPLICIT)


@dataclass(frozen=True, slots=True)
class EmergencyFinding:
    """What the rules saw: the number to hand over to (or None) and the words that decided."""

    number: EmergencyNumber | None
    evidence: tuple[str, ...]
    suppressed: tuple[str, ...]  # matches set aside as negated, past or hypothetical

    @property
    def mentioned(self) -> bool:
        """True when emergency words occur at all, even set aside."""
        return bool(self.evidence or self.suppressed)


def _not_now(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - SUPPRESS_WINDOW) : start]
    after = text[end : end + NOT_NOW_AFTER_WINDOW]
    return bool(NEGATION.search(before) or NOT_NOW.search(before) or NOT_NOW_AFTER.search(after))


def detect(normalized: str) -> EmergencyFinding:
    """Apply the rules to a normalised text (routing.text.normalize)."""
    present = bool(PRESENT.search(normalized))
    hits: dict[EmergencyNumber, list[str]] = {}
    suppressed: list[str] = []
    for number, pattern in _PATTERNS:
        for m in pattern.finditer(normalized):
            if not present and _not_now(normalized, m.start(), m.end()):
                suppressed.append(m.group(0))
            else:
                hits.setdefault(number, []).append(m.group(0))
    if not hits:
        cry = GENERIC.search(normalized)
        if cry:
            return EmergencyFinding("110", (cry.group(0),), tuple(suppressed))
        return EmergencyFinding(None, (), tuple(suppressed))
    numbers = set(hits)
    chosen: EmergencyNumber | None = None
    if len(numbers) > 1:
        asked = [n for n, p in _EXPLICIT if n in numbers and p.search(normalized)]
        if len(asked) == 1:
            chosen = asked[0]
    if chosen is None:
        chosen = next(n for n in PRECEDENCE if n in numbers)
    evidence = tuple(w for n in PRECEDENCE for w in hits.get(n, ()))
    return EmergencyFinding(chosen, evidence, tuple(suppressed))
