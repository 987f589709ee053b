"""Emergency rules: does the caller need 110, 119, 120 or 122 now?

Theory of operation. An emergency is a danger to life or property that is happening now (or
just happened) to someone the caller is with. The rules are written as that definition, not as
a list of phrasings:

    emergency = a danger event  +  it is now  -  a context that says it is not

* **Danger events** (`EVENTS`) are concepts, each with the number that handles it: fire and
  smoke, gas, explosion, people trapped (119); violence, threats, a crime under way, a life at
  risk by the person's own hand, a person in water, a child taken (110); loss of consciousness,
  breathing, bleeding, poisoning, labour (120); a crash, a hit-and-run, an overturned vehicle
  (122). A cry for help with nothing more specific (救命) goes to 110.
* **Not-now contexts** set an event aside when they are in the same stretch of words:
  negation just before it (没着火); the past (以前, 上次, 去年); a fear or a hypothesis
  (担心, 怕, 万一, 如果); a hazard rather than an event (隐患, 风险, 检查, 整改, 消防通道,
  建议); an account of it (新闻, 听说, 报道); pollution and nuisance rather than danger
  (污染, 油烟, 烟囱, 烧垃圾); the aftermath (投诉, 赔偿, 理赔, 已经处理); a habit rather than
  an event (经常, 老是, 每天, 多次).
* **Now cues** (正在, 还在, 刚才, 快来人, 救命...) put an event set aside by the past or a
  hypothesis back (正在冒烟 after 上次), never one that is negated. In a written message an
  event said as done (着火了) is now too.

Spoken requests are short and one stretch; a caller who names a danger is taken at their word
(recall first: a missed emergency is the worst error). A written message (title and body of a
web or WeChat post) is read sentence by sentence, and an event counts only in a sentence that
also says it is happening now, with no not-now context in that sentence: people write about
hazards, lifts and gas in long complaints, and such messages are not handed to 110/119/120.

Every pattern runs on the normalised text (routing.text.normalize): no spaces, no punctuation,
digits as Chinese numerals, and recogniser homophones of the key words (`SOUND_WORDS`) already
read by sound (routing.sounds). When several numbers match, an explicit request for a service
(叫救护车) decides, then 122 > 119 > 110 > 120: an accident with injuries is a 122 case, a
fire with injuries a 119 case, violence with blood a 110 case.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from routing.sounds import COMMON_CHARS, pattern_words
from routing.taxonomy import EmergencyNumber

_PERSON: Final = (
    r"(人|我|他|她|孩子|老人|小孩|娃|媳妇|老婆|老公|丈夫|妻子|爸|妈|爷|奶|姥|儿子|女儿|闺女)"
)

# (number, concept, pattern) on normalised text.
EVENTS: Final[tuple[tuple[EmergencyNumber, str, str], ...]] = (
    # 119
    (
        "119",
        "fire",
        r"(?<!打不)(?<!点不)(?<!打得)着火|失火|起火|火灾|烧起来|着起来|火苗|火势|大火|火光|"
        r"火(很|挺|特别|太|老)大|烧着了",
    ),
    (
        "119",
        "smoke",
        r"冒(黑|白|浓)?烟|全是烟|满(屋|楼|屋子|楼道)(都是)?烟|浓烟|烟(很|挺|特别|太)大|有烟",
    ),
    (
        "119",
        "gas",
        r"(煤气|燃气|天然气|液化气)味|漏气|(气体|煤气|燃气|天然气|液化气)泄漏|一股.{0,3}(煤气|燃气)|"
        r"(燃气|煤气|天然气|液化气)(管|管子|罐|灶|阀门|表).{0,6}漏|一屋子(煤气|燃气)?味|.气.{0,2}泄[漏露]",
    ),
    ("119", "explosion", r"爆炸|炸了"),
    (
        "119",
        "trapped",
        r"被困|困在|困住|(锁|关|卡)在.{0,12}出不来|有人.{0,4}出不来|"
        r"(里头|里面|里边)(还)?有人.{0,6}(出不来|喊|叫|敲)|"
        r"(听着|听见|听到).{0,4}(在)?(里头|里面|里边)(喊|叫|敲|拍)",
    ),
    # 110
    (
        "110",
        "violence",
        rf"打架|斗殴|群殴|殴打|行凶|砍人|捅人|捅了|持刀|拿着?(刀|棍子|斧子|砖头)|动刀|见血|家暴|"
        rf"(打|揍|踹|掐|砍|捅)(我|人|他|她|孩子|老人|起来了)|{_PERSON}被(打|砍|捅)|"
        r"往死里(打|揍|踹|掐)|(把|被|让)(我|他|她|孩子|老人|人)(给)?(打|揍|踹|掐)(了|伤|得|坏)|"
        r"(还要|要)收拾(我|孩子)",
    ),
    (
        "110",
        "threat",
        r"要杀|杀人|杀了|弄死|砍死|打死我|威胁|恐吓|绑架|劫持|砸门|砸(我|他|她)?(家|车)|闯进|入室|"
        r"堵在(门口|屋里|家里)不走|踹门",
    ),
    (
        "110",
        "crime",
        r"[在再]撬|撬开|撬(车|门|锁)|[在再]偷|偷车|小偷|扒手|抢劫|抢(我|包|钱|手机|东西)|抢了|"
        r"跟踪|尾随|猥亵|耍流氓|拐走|翻(墙|窗)进|(拧|拽|撬|捅)(我家|人家|别人家)?的?门(把手|锁)|"
        r"(有人|一直|老有人).{0,3}跟着我|跟在我(后面|后头|身后)|"
        r"(拉|拽|拧|砸)(人家|别人)?的?车(门|窗)|"
        r"(不让我|不让)下车|(让|叫)(他|司机)停.{0,3}不停|(司机|他).{0,8}不停车",
    ),
    (
        "110",
        "self_harm",
        r"跳楼|跳河|跳江|跳桥|轻生|自杀|不想活|活着没意思|活不下去|寻死|割腕|上吊|想死|"
        r"站在(楼顶|天台|桥上|窗台)|(桥|楼顶|天台|窗台|栏杆)(外|外头|外面|边上|上).{0,8}(往下)?跳|往下跳|"
        r"(翻|爬|站|坐)(到|过|出|在)?了?(桥|楼顶|天台|窗台|窗户|栏杆|护栏)(的)?(外|外头|外面|外边)",
    ),
    (
        "110",
        "water",
        r"落水|溺水|淹着了|淹死|(掉|跌|摔|滑)(进|到)?(水|河|湖|江|海|水库|池塘|塘|井|冰窟窿)里?|"
        r"(水|河|湖|江|海|水库|塘|池子)里.{0,8}(扑腾|挣扎|喊救命|沉下去|漂着|上不来)|"
        r"被(水|浪|洪水)冲走|沉下去|不会游泳.{0,8}(掉|落|下去|冲)",
    ),
    (
        "110",
        "child_taken",
        r"(孩子|女儿|儿子|闺女|小孩).{0,6}(被人?带走|被抱走|被拐|找不着了|找不到了|不见了|丢了)",
    ),
    # 120
    (
        "120",
        "unconscious",
        r"晕倒|昏倒|昏过去|晕过去|叫不醒|叫.{0,3}不应|不省人事|没(了)?反应|倒地|倒在地上|昏迷|休克|"
        r"一动不动|躺(在)?地上不动|嘴(也)?歪了|口眼歪斜|迷迷糊糊|"
        r"叫(他|她|人)?(也|都)?.{0,2}不.{0,2}(应|醒)|说胡话|神志不清|意识不清|"
        r"(倒|躺|趴)(下|在地上|地上|那).{0,6}(不动了|起不来|没反应|没动静)|"
        rf"{_PERSON}.{{0,6}}(倒|趴)下了",
    ),
    (
        "120",
        "breathing",
        r"没呼吸|没有呼吸|喘不(上|过)(来)?气|上不来气|呼吸困难|心跳.{0,4}(没|停)|心脏骤停|噎(着|住)了|"
        rf"{_PERSON}.{{0,3}}没气了|不(会)?喘气了?|喘不动气|嘴唇(发)?(紫|青)|脸(都)?(憋|发)?(紫|青)了|"
        r"(卡|噎)(着|住)了?.{0,10}(咳不出|喘不|憋(红|紫|青))|(卡|噎)在(嗓子|喉咙|气管)|"
        r"咳不出来.{0,6}憋|"
        r"(胸口|心口|胸)(疼|痛|闷).{0,10}(喘|冷汗|出汗|上不来)",
    ),
    (
        "120",
        "acute",
        r"心脏病犯|心梗|脑梗|中风|半边身子|说不出话|抽搐|口吐白沫|抽过去|触电|被电(了|到)|"
        r"烫伤|烧伤|摔下来|不能动了|动不了|起不来|抽风|(高烧|发烧|烧得)(得|到|都)?抽(搐|出|过去|风)",
    ),
    ("120", "bleeding", r"流了?(好多|很多|一地|不少)血|大出血|血止不住|流血不止|大口子|满脸是血"),
    (
        "120",
        "poisoning",
        r"中毒|喝了?农药|吃了?(安眠药|老鼠药)|吃了.{0,4}(好多|很多|一瓶|半瓶|一整瓶|一把)(药|片)?|"
        r"(头疼|头痛|头晕|恶心).{0,16}(炉子|煤炉|炭火|烧炭|火炉|煤气|燃气)|"
        r"(炉子|煤炉|炭火|烧炭|火炉).{0,16}(头疼|头痛|头晕|恶心|晕倒|趴下)",
    ),
    ("120", "labour", r"要生了|羊水|破水|早产"),
    ("120", "ambulance", r"救护车|(?<![零一二三四五六七八九])[一幺]二零(?![零一二三四五六七八九])"),
    # 122
    (
        "122",
        "crash",
        r"车祸|被车撞|撞倒|撞人|撞了|撞一块|相撞|追尾|撞到|撞伤|压(着|到|了)人|车.{0,4}(挂|碾|轧)倒|"
        r"车.{0,6}(刮倒|剐倒|刮了|蹭倒)|(刮倒|剐倒)了?(我|人|老人|孩子)|连环撞|"
        r"(两|三|四|五|几|好几|多)(个|辆|台)车.{0,4}(撞|顶|碰|怼|追尾)|车头.{0,3}(瘪|撞烂|撞坏|变形)|"
        r"把.{0,8}(碰|撞|刮|蹭)(了|倒|伤)",
    ),
    ("122", "hit_and_run", r"肇事|逃逸|撞.{0,6}(跑了|逃了|逃跑|开跑了)"),
    ("122", "overturned", r"(车|货车|三轮|轿车|大车|客车|公交).{0,4}翻了|翻车"),
)
# A cry for help with nothing more specific goes to the police.
GENERIC: Final = re.compile(r"(?<!能)(?<!可以)(?<!会)救命|救救(我|他|她|孩子)|来人啊|快来人")
# Asking for one service by name decides between several matching numbers.
EXPLICIT: Final[tuple[tuple[EmergencyNumber, str], ...]] = (
    ("120", r"救护车|一二零|幺二零|急救"),
    ("119", r"消防车|一一九|幺幺九|灭火"),
    ("110", r"报警|警察|一一零|幺幺零"),
    ("122", r"交警|一二二|幺二二"),
)
PRECEDENCE: Final[tuple[EmergencyNumber, ...]] = ("122", "119", "110", "120")

# Not-now contexts (see the header). NEGATION must end just before the event.
NEGATION: Final = re.compile(
    r"(没|没有|不是|并没|并没有|别|未|不会|无|防|预防|以防|防止|避免|防范|怕|担心|"
    r"差点|差点儿|差一点|差一点儿|险些|幸好没|好在没)(也|都|有|再|被)?$"
)
_PAST: Final = (
    r"上次|上回|之前|以前|去年|前年|那年|上个月|上礼拜|上周|前几天|前些天|前两天|那次|当时|"
    r"曾经|几年前|年前|小时候|历史上|(出|发生|有|遇到|碰到|闹|着|起)过"
)
_FEAR: Final = (
    r"万一|如果|要是|假如|一旦|怕|担心|害怕|生怕|容易|可能会|会不会|是不是会|以免|难免|迟早|"
    r"省得|免得|不然|否则|真要|到时候|哪天|有一天"
)
_HAZARD: Final = (
    r"隐患|风险|安全检查|检查|排查|整改|演练|培训|宣传|知识|建议|规定|标准|消防通道|"
    r"消防设施|消防栓|灭火器|报警器|安装|违规|不符合|存在|杂物|堆满|堆放|占用|堵塞"
)
_ACCOUNT: Final = r"新闻|报道|听说|据说|通报|视频|朋友圈|网上|电视|小说|电影"
_NUISANCE: Final = (
    r"污染|油烟|烟囱|烟尘|排放|排污|焚烧|烧(垃圾|秸秆|树叶|纸|烧烤)|烧烤|抽烟|吸烟|二手烟"
)
_AFTERMATH: Final = (
    r"投诉|报销|理赔|赔偿|赔钱|丧葬|起诉|鉴定|保险|已经处理|处理结果|责任|立案|报过警|在调查"
)
# A product's fault told to claim from the seller, not a danger now.
_COMMERCE: Final = r"商家|厂家|售后|退货|退款|不给(换|退|修)|三包|质量问题|客服"
_HABIT: Final = r"经常|老是|总是|天天|每天|每次|多次|好几次|反复|长期|常年|一直以来|时不时"
NOT_NOW: Final = re.compile(
    "|".join((_PAST, _FEAR, _HAZARD, _ACCOUNT, _NUISANCE, _AFTERMATH, _HABIT))
)
# Said after the event ("不是现在，是以前的事").
NOT_NOW_AFTER: Final = re.compile(
    r"不是现在|以前的事|之前的事|早就过去|已经过去|已经处理|已经好了|已经灭了|扑灭了|的话|"
    r"去哪|怎么申请|怎么办理|"
    rf"的?隐患|的?风险|的问题|{_HABIT}|怎么办理|归谁管|谁管|找谁|{_NUISANCE}|{_COMMERCE}|"
    r"建议|那个事|的事|那事|这事|立案|在调查|报过警"
)
# Said anywhere, the whole request is about the past.
NOT_NOW_ANYWHERE: Final = re.compile(r"不是现在|以前的事|之前的事|早就过去了")
NOW: Final = re.compile(
    r"正在|现在还|还在(烧|冒|打|流|漏|砍|闹|撬|偷|追|跟|水里)|快来人|快派|赶紧来|快救|"
    r"喊救命|救救|"
    r"快点来|快来救|马上来|刚刚|刚才|就在(我|门口|楼下|眼前|这)|"
    r"现在(?:(?!不|没).){0,4}(着|冒|打|流|昏|晕|漏)"
)
# In a written message, words of a complaint about something that keeps happening.
WRITTEN_NOT_NOW: Final = re.compile(r"又|再次|一直|至今|从来|维修|修理|反映|物业")
# Said right after the event, it is happening now (着火了, 晕倒啦).
NOW_AFTER: Final = re.compile(r"(了|啦|呀|啊)")
SUPPRESS_WINDOW: Final = 14
NOT_NOW_AFTER_WINDOW: Final = 16

_EVENTS: Final = tuple((n, concept, re.compile(p)) for n, concept, p in EVENTS)
_ANY_EVENT: Final = re.compile("|".join(f"(?:{p})" for _n, _c, p in EVENTS))
_EXPLICIT: Final = tuple((n, re.compile(p)) for n, p in EXPLICIT)

# Key words a recogniser may write with a wrong character of the same sound: routing.text
# reads them back by sound before any rule runs (routing.sounds). They are every word the
# rules spell out (routing.sounds.pattern_words): the words of three or more characters of every
# event and cry for help, and the two-character alternatives that are an event by themselves
# (着火, 撞了, 抢了); two-character parts of a longer pattern (里面, 孩子) are everyday words.
# 有烟 is left out: 有严重, 有盐 and 有眼 are everyday speech and one character is all it has.
# 倒地 is 到地 and 到第 in everyday speech. A two-character word that starts with a common
# function character (要杀, 在偷, 被困) has its danger in one character only, like 有烟.
_NOT_FOLDED: Final = frozenset({"有烟", "倒地"})
# Parts of a longer pattern that name the danger themselves (气.{0,2}泄漏).
_SHORT_PARTS: Final = ("泄漏", "泄露")


def _sound_words() -> tuple[tuple[str, ...], tuple[str, ...]]:
    patterns = [p for _n, _c, p in EVENTS] + [GENERIC.pattern] + [p for _n, p in EXPLICIT]
    whole = {w for p in patterns for w in pattern_words(p, whole_only=True)}
    every = {w for p in patterns for w in pattern_words(p)}
    short = sorted(
        {w for w in whole if len(w) == 2 and w not in _NOT_FOLDED and w[0] not in COMMON_CHARS}
        | set(_SHORT_PARTS)
    )
    longer = sorted(w for w in every | whole if len(w) > 2)
    return tuple(short), tuple(longer)


SHORT_SOUND_WORDS, LONG_SOUND_WORDS = _sound_words()
SOUND_WORDS: Final[tuple[str, ...]] = SHORT_SOUND_WORDS + LONG_SOUND_WORDS


@dataclass(frozen=True, slots=True)
class EmergencyFinding:
    """What the rules saw: the number to hand over to (or None) and the words that decided."""

    number: EmergencyNumber | None
    evidence: tuple[str, ...]
    suppressed: tuple[str, ...]  # events set aside as negated, past, hypothetical, hazards...

    @property
    def mentioned(self) -> bool:
        """True when emergency words occur at all, even set aside."""
        return bool(self.evidence or self.suppressed)


def _negated(text: str, start: int) -> bool:
    return bool(NEGATION.search(text[max(0, start - 4) : start]))


def _not_now(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - SUPPRESS_WINDOW) : start]
    after = text[end : end + NOT_NOW_AFTER_WINDOW]
    return bool(NOT_NOW.search(before) or NOT_NOW_AFTER.search(after))


def _choose(hits: dict[EmergencyNumber, list[str]], text: str) -> EmergencyNumber:
    numbers = set(hits)
    if len(numbers) > 1:
        asked = [n for n, p in _EXPLICIT if n in numbers and p.search(text)]
        if len(asked) == 1:
            return asked[0]
    return next(n for n in PRECEDENCE if n in numbers)


def _events(
    text: str, now: bool, strict: bool
) -> tuple[dict[EmergencyNumber, list[str]], list[str]]:
    """Events found in one stretch: kept ones by number, and the ones set aside.

    `now`: the stretch says it is happening now. `strict` (written messages): a not-now context
    sets an event aside even with a now cue, and an event with no now cue is set aside too."""
    hits: dict[EmergencyNumber, list[str]] = {}
    suppressed: list[str] = []
    if _ANY_EVENT.search(text) is None:  # most sentences of a long message: one pass
        return hits, suppressed
    for number, _concept, pattern in _EVENTS:
        for m in pattern.finditer(text):
            if _negated(text, m.start()):
                suppressed.append(m.group(0))
                continue
            context = _not_now(text, m.start(), m.end()) or bool(NOT_NOW_ANYWHERE.search(text))
            if strict:
                said_now = now or NOW_AFTER.match(text, m.end()) is not None
                quiet = not (NOT_NOW.search(text) or WRITTEN_NOT_NOW.search(text))
                keep = said_now and not context and quiet
            else:
                keep = now or not context
            if keep:
                hits.setdefault(number, []).append(m.group(0))
            else:
                suppressed.append(m.group(0))
    return hits, suppressed


def _finding(
    hits: dict[EmergencyNumber, list[str]], suppressed: list[str], text: str
) -> EmergencyFinding:
    if not hits:
        return EmergencyFinding(None, (), tuple(suppressed))
    evidence = tuple(w for n in PRECEDENCE for w in hits.get(n, ()))
    return EmergencyFinding(_choose(hits, text), evidence, tuple(suppressed))


def detect(normalized: str) -> EmergencyFinding:
    """The rules on a spoken request, one normalised stretch (routing.text.normalize)."""
    now = NOW.search(normalized) is not None and not NOT_NOW_ANYWHERE.search(normalized)
    hits, suppressed = _events(normalized, now, strict=False)
    if not hits:
        cry = GENERIC.search(normalized)
        if (
            cry
            and not _negated(normalized, cry.start())
            and (now or not _not_now(normalized, cry.start(), cry.end()))
        ):
            return EmergencyFinding("110", (cry.group(0),), tuple(suppressed))
    return _finding(hits, suppressed, normalized)


def detect_written(sentences: Sequence[str]) -> EmergencyFinding:
    """The rules on a written message, given as its normalised sentences: an event counts only
    in a sentence that says it is happening now and has no not-now context (see the header)."""
    hits: dict[EmergencyNumber, list[str]] = {}
    suppressed: list[str] = []
    for sentence in sentences:
        found, aside = _events(sentence, bool(NOW.search(sentence)), strict=True)
        for number, words in found.items():
            hits.setdefault(number, []).extend(words)
        suppressed += aside
    return _finding(hits, suppressed, "".join(sentences))
