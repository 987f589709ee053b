"""Emergencies: every number on several phrasings, clean and recogniser-spaced; near misses."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from routing import Classifier

EMERGENCIES = {
    "110": [
        "门口有两个人拿刀互相砍，快来人",
        "有个男的一直跟着我，说要杀了我",
        "我媳妇说她不想活了，把自己锁在屋里",
        "有小孩掉河里了，就在公园湖边",
        "有人正在撬我家门锁，我在屋里听着呢",
    ],
    "119": [
        "对面楼起火了，火苗子往外窜",
        "厨房里一股很浓的煤气味，头都晕了",
        "楼下饭店炸了，玻璃全碎了",
        "屋里全是烟，门打不开",
    ],
    "120": [
        "我奶奶摔了一跤以后就叫不醒了",
        "孩子吃东西噎着了，喘不上气，脸都青了",
        "我老婆肚子疼得厉害，羊水破了",
        "有个人倒在路边，一动不动，没呼吸了",
    ],
    "122": [
        "路口两辆车撞了，一个人躺在地上流血",
        "一辆面包车把骑自行车的撞了，司机开车跑了",
        "大货车在桥上翻了，路都堵死了",
        "我被出租车撞了，腿流血了",
    ],
}
CASES = [(n, t) for n, texts in EMERGENCIES.items() for t in texts]


@pytest.mark.parametrize(("number", "text"), CASES)
def test_emergency_is_handed_over(classifier: Classifier, number: str, text: str) -> None:
    result = classifier.classify(text)
    assert result.intent == "emergency"
    assert result.emergency == number
    assert result.in_scope is False
    assert result.out_of_scope_reason == "emergency"
    assert result.kind is None and result.domain is None and result.department is None
    assert result.route.priority == 1


@pytest.mark.parametrize(("number", "text"), CASES)
def test_emergency_in_recogniser_output(
    classifier: Classifier, number: str, text: str, spaced: Callable[[str], str]
) -> None:
    assert classifier.classify(spaced(text)).emergency == number


@pytest.mark.parametrize(
    ("number", "text"),
    [
        ("119", "我 家 着 伙 了 快 来 人"),  # 着火 heard as 着伙
        ("110", "就 命 啊 有 人 打 我"),  # 救命 heard as 就命
        ("122", "前 面 出 车 获 了 有 人 受 伤"),  # 车祸 heard as 车获
    ],
)
def test_emergency_through_homophones(classifier: Classifier, number: str, text: str) -> None:
    assert classifier.classify(text).emergency == number


NEAR_MISSES = [
    "上次着火的事处理了吗",
    "去年我们楼起火以后说要装消防栓，到现在也没装",
    "燃气灶打不着火，是不是没气了",
    "我想问问燃气报警器要不要装，万一漏气能报警",
    "家里没着火也没冒烟，就是电闸老跳",
    "前几天出了车祸，保险公司一直不理赔",
    "建议学校多开防溺水的安全课",
    "我爸上个月晕倒住院，医保能报多少",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_negated_or_past_mention_is_not_an_emergency(classifier: Classifier, text: str) -> None:
    result = classifier.classify(text)
    assert result.intent != "emergency"
    assert result.emergency is None


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_miss_in_recogniser_output(
    classifier: Classifier, text: str, spaced: Callable[[str], str]
) -> None:
    assert classifier.classify(spaced(text)).emergency is None


def test_present_cue_overrides_a_past_word(classifier: Classifier) -> None:
    # "yesterday" alone would set the fire aside; "still smoking now" brings it back.
    assert classifier.classify("昨天着火了，现在还在冒烟").emergency == "119"
