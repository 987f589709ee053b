"""Every department reached by a phrase the corpus does not hold; clean and spaced alike."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from routing import Classifier, corpus
from routing.taxonomy import DEPARTMENTS
from routing.text import normalize

PHRASES = {
    "public_security": "我家孩子的户口想从老家迁过来，派出所说要准迁证，这个咋开",
    "market_supervision": "在超市买的牛奶打开就是坏的，日期还没过，超市不给退",
    "human_resources_social_security": "老板欠了我们半年工资了，一直说没钱，我们十几个人都没拿到",
    "housing_urban_rural": "我们小区物业费收了，楼道灯坏了半年都没人换",
    "urban_management": "楼下饭店天天把桌子摆到人行道上，人都没法走",
    "ecology_environment": "旁边工厂排的废气一股臭鸡蛋味，晚上更厉害",
    "transport": "那个出租车司机不打表，到地方张口就要五十",
    "education": "孩子上初中，学校非让交一千块钱的资料费",
    "health": "社区卫生院的大夫开的药不对，吃了过敏了，找他们还不承认",
    "civil_affairs": "我妈七十五了，听说有高龄津贴，我们去哪领",
    "medical_security": "我在北京看病花的钱，回来医保能报多少",
    "housing_provident_fund": "我想把公积金取出来装修房子，能行吗",
    "natural_resources": "老家的宅基地想办个不动产证，去哪里办",
    "agriculture_animal_husbandry": "我家羊群里好几只羊拉稀，想找个兽医给看看",
    "government_services": "在蒙速办上交了材料一个礼拜了，状态一直是待审核",
    "finance": "我们公司给区政府修的路早就验收了，工程款还欠着一百多万",
    "heating": "今年供暖以后家里暖气片上面热下面凉，屋里就十五度",
    "water_supply": "我们这片从早上就停水了，也没通知，啥时候来水",
    "power_supply": "家里电费这个月突然三百多，平时才一百",
    "gas_supply": "燃气公司的人说我家燃气表要换，还要收钱，这个该我们出吗",
    "postal": "快递公司把我的包裹弄丢了，只肯赔五块钱",
}


def test_phrases_cover_every_department() -> None:
    assert set(PHRASES) == set(DEPARTMENTS)


def test_phrases_are_not_in_the_corpus() -> None:
    seen = {normalize(e.text) for e in corpus.load()}
    for text in PHRASES.values():
        assert normalize(text) not in seen


@pytest.mark.parametrize(("department", "text"), sorted(PHRASES.items()))
def test_department(classifier: Classifier, department: str, text: str) -> None:
    result = classifier.classify(text)
    assert result.in_scope is True
    assert result.department == department


@pytest.mark.parametrize(("department", "text"), sorted(PHRASES.items()))
def test_clean_and_recogniser_output_classify_alike(
    classifier: Classifier, department: str, text: str, spaced: Callable[[str], str]
) -> None:
    clean = classifier.classify(text)
    heard = classifier.classify(spaced(text))
    assert heard.department == clean.department == department
    assert heard.intent == clean.intent
    assert heard.kind == clean.kind


def test_enterprise_caller(classifier: Classifier) -> None:
    assert classifier.classify("我们公司想申请稳岗补贴，需要准备啥材料").enterprise is True
    assert classifier.classify("我家暖气不热，屋里太冷了").enterprise is False


def test_follow_up_goes_to_dispatch(classifier: Classifier) -> None:
    result = classifier.classify("我上周反映的事给了个工单号，到现在也没人回复，帮我催一下")
    assert result.intent == "follow_up"
    assert result.route.group == "dispatch"
