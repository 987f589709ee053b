"""The detector reads what makes an emergency, words by sound, and the requests of this round.

The texts are written here, in phrasings of their own (not rows of the corpus or the fresh
sets): each names a danger in everyday words, a homophone of a rule word in recogniser-spaced
text, an out-of-scope demand, an enterprise speaking for itself, or a complaint that only
mentions a danger.
"""

from __future__ import annotations

import pytest

from routing import corpus
from routing.classifier import Classifier
from routing.emergency import SHORT_SOUND_WORDS, SOUND_WORDS
from routing.sounds import pattern_words
from routing.text import normalize


def spaced(text: str) -> str:
    return " ".join(ch for ch in text if ch not in "，。？！")


EVERYDAY: list[tuple[str, str]] = [
    ("110", "我下班走路回家，有个男的一路跟着我，现在还在我后面"),
    ("110", "河边那个桥上，有个姑娘爬到护栏外面去了，一直在哭"),
    ("110", "我男人喝了酒，刚才把我给打了，说一会儿还要收拾我"),
    ("110", "停车场有个人挨个拉车门，拉了好几辆了"),
    ("110", "这个网约车司机不停车，我叫他停他不停，一直往山里开"),
    ("119", "仓库的卷帘门坏了，里头还有人出不来"),
    ("119", "隔壁屋里锁着门，听见有人在里面敲门喊"),
    ("120", "我爸胸口疼，喘不过气来，满头冷汗"),
    ("120", "孩子吃糖卡着了，咳不出来，脸都憋紫了"),
    ("120", "我们宿舍几个人都头晕恶心，屋里生着煤炉"),
    ("120", "我奶奶叫她都不怎么应了，一直说胡话"),
    ("120", "孩子发高烧抽风了"),
    ("122", "十字路口三辆车撞一块了"),
    ("122", "我骑车把一个老太太碰倒了，她起不来"),
]
HOMOPHONES: list[tuple[str, str]] = [
    ("119", "厨房帽白烟了"),  # 冒白烟
    ("120", "我爸穿不上气了"),  # 喘不上气
    ("122", "两辆车壮了"),  # 撞了
    ("110", "我的包让人枪了"),  # 抢了
    ("110", "有个孩子调河里了"),  # 掉河里
]
NOT_EMERGENCIES: list[str] = [
    "楼道里堆满了杂物有火灾隐患，物业一直不管",
    "刚买的暖风机用的时候冒烟了，商家不给退",
    "建议地下车库装喷淋，省得哪天起火了来不及",
    "这个路口上个月出过车祸，建议装个红绿灯",
    "出租车司机开车看手机，差点撞到人",
    "我跟邻居打架那个事派出所已经立案了，我想问问进度",
    "烧烤摊的客人去年打起来过，现在不打了，就是吵",
    "我想问问孩子转学要啥材料",
    "我去养老院看我妈，发现伙食不好",
    "老年卡在哪办，要啥手续",
    "我不懂这个咋办，你给说说",
    "温度往下调一调，暖气太热了",
]


@pytest.mark.parametrize(("number", "text"), EVERYDAY)
def test_an_everyday_emergency(classifier: Classifier, number: str, text: str) -> None:
    assert classifier.classify(text).emergency == number
    assert classifier.classify(spaced(text)).emergency == number


@pytest.mark.parametrize(("number", "text"), HOMOPHONES)
def test_a_homophone_of_a_danger_word(classifier: Classifier, number: str, text: str) -> None:
    assert classifier.classify(spaced(text)).emergency == number


@pytest.mark.parametrize("text", NOT_EMERGENCIES)
def test_a_mention_is_not_an_emergency(classifier: Classifier, text: str) -> None:
    assert classifier.classify(text).emergency is None
    assert classifier.classify(spaced(text)).emergency is None


def test_the_sound_words_are_the_rules_words() -> None:
    words = set(SOUND_WORDS)
    assert {"着火", "撞了", "抢了", "冒黑烟", "喘不上气", "掉水库里", "快来人"} <= words
    assert all(len(w) == 2 for w in SHORT_SOUND_WORDS)
    # parts of a longer pattern that are everyday words are never folded on their own
    assert not {"里面", "孩子", "有烟"} & set(SHORT_SOUND_WORDS)


def test_pattern_words_spell_out_finite_runs() -> None:
    assert pattern_words("冒(黑|白)?烟") == {"冒烟", "冒黑烟", "冒白烟"}
    assert pattern_words("(锁|关)在.{0,8}出不来") >= {"锁在", "关在", "出不来"}
    assert pattern_words("(?<!打不)着火") == {"着火"}
    assert pattern_words("冒烟|(锁|关)在.{0,8}出不来", whole_only=True) == {"冒烟"}


def test_everyday_runs_that_sound_like_a_danger_word_stay() -> None:
    for text in ("要啥材料", "走到地里", "去看我妈", "拿到手续", "二零一二年", "有严重影响"):
        assert normalize(text) == text


def test_ordinary_training_requests_raise_no_alarm(classifier: Classifier) -> None:
    """Every ordinary training request, clean and recogniser-spaced, stays a request: the
    sound reading turns none of them into an emergency."""
    rows = [e for e in corpus.load() if e.split == "train" and e.emergency is None]
    alarms = [e.text for e in rows if classifier.classify(e.text).emergency is not None]
    assert alarms == []


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        ("unreasonable", "周末那天儿咋样，会不会下雨"),
        ("unreasonable", "我家那只狗跑丢了，你们帮着找找，跑丢的狗是白色的"),
        ("unreasonable", "炒股赔了十几万，政府能不能给点补偿"),
        ("unreasonable", "对门那家我看不惯，你们把他家的车拖走"),
        ("public_order", "有没有法子让我少交税，又不被查"),
        ("public_order", "帮我找个替考的，驾照笔试"),
        ("privacy", "我想知道我们科室那个同事工资是多少"),
    ],
)
def test_out_of_scope_demands(classifier: Classifier, reason: str, text: str) -> None:
    assert classifier.classify(text).out_of_scope_reason == reason


def test_reporting_an_unlawful_act_is_in_scope(classifier: Classifier) -> None:
    assert classifier.classify("有人在小区门口卖假证，我要举报").in_scope


def test_a_legal_process_under_way_is_not_a_follow_up(classifier: Classifier) -> None:
    got = classifier.classify("劳动仲裁已经裁决了，公司还不给钱，你们帮我催催")
    assert got.out_of_scope_reason == "in_legal_process" and got.intent == "new_request"


@pytest.mark.parametrize(
    "text",
    [
        "我们洗车店门口的路灯坏了一个月了",
        "我们物流公司的营运证年审在哪办",
        "我们商铺门前的下水道堵了",
    ],
)
def test_an_enterprise_speaking_for_itself(classifier: Classifier, text: str) -> None:
    assert classifier.classify(text).enterprise


def test_power_cuts_counted_are_not_a_returned_call(classifier: Classifier) -> None:
    assert classifier.classify("这个月停了三回电了，也不通知").intent == "new_request"
