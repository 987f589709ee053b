"""Beyond the templates: written messages, homophones by sound, reasons, follow-ups, enterprises
and the department named by the dispatch catalogue."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from routing import Classifier, ClassifyError
from routing import classifier as classifier_module
from routing import text as text_module
from routing.catalogue import Catalogue, default_catalogue
from routing.classifier import MAX_TEXT_CHARS, use_catalogue
from routing.model import LinearModel
from routing.sounds import SoundFolder
from routing.text import normalize, sentences

# ---- emergencies ----------------------------------------------------------------------------

EVERYDAY_EMERGENCIES = [
    ("110", "隔壁那两口子又打起来了，男的拿着菜刀追着砍，现在还在楼道里"),
    ("110", "有个人一直在我家门外拧门锁，拧了好几分钟了"),
    ("110", "池塘里好像有个孩子，就露个脑袋在水里扑腾"),
    ("119", "地下车库一辆车烧起来了，黑烟往楼上冒"),
    ("120", "我妈突然倒在厨房地上，叫她也不应"),
    ("122", "十字路口一辆小轿车把骑电动车的大爷撞倒了，人躺着不动"),
]


@pytest.mark.parametrize(("number", "text"), EVERYDAY_EMERGENCIES)
def test_an_emergency_in_everyday_words(classifier: Classifier, number: str, text: str) -> None:
    assert classifier.classify(text).emergency == number


@pytest.mark.parametrize(
    ("number", "text"),
    [
        ("119", "厨 房 失 伙 了 火 很 大"),  # 失火 heard as 失伙
        ("120", "我 爸 昏 到 了 叫 不 醒"),  # 昏倒 heard as 昏到
        ("119", "楼 道 里 冒 眼 了 好 大 的 烟"),  # 冒烟 heard as 冒眼
    ],
)
def test_a_homophone_of_the_key_word_is_heard_by_sound(
    classifier: Classifier, number: str, text: str
) -> None:
    assert classifier.classify(text).emergency == number


NOT_EMERGENCIES = [
    "我们小区消防通道被私家车堵死了，万一着火消防车根本进不来",
    "以前这栋楼着过一次火，到现在烧黑的外墙也没人修",
    "我担心楼下饭店的燃气罐会爆炸，能不能派人查一查",
    "工厂烟囱天天冒黑烟，污染太严重了",
    "我已经投诉过好几次了，电梯又困人，物业就是不修",
    "看新闻说外地有个小区燃气爆炸了，我们这的管道也该检查检查",
    "如果发生火灾，高层的老人怎么疏散，建议社区搞个演练",
    "邻居家烧秸秆，烟大得呛人",
]


@pytest.mark.parametrize("text", NOT_EMERGENCIES)
def test_a_hazard_a_fear_or_the_past_is_not_an_emergency(
    classifier: Classifier, text: str, spaced: Callable[[str], str]
) -> None:
    assert classifier.classify(text).emergency is None
    assert classifier.classify(spaced(text)).emergency is None


LONG_COMPLAINT = (
    "关于某某小区安全隐患长期得不到整改的投诉\n"
    "尊敬的领导：我是某某小区的居民。我们小区建于上世纪九十年代，楼道里堆满了杂物，"
    "电动车在楼道里充电，电线私拉乱接，存在很大的火灾隐患。小区的电梯用了二十多年，"
    "去年曾经把人困在里面一个多小时。燃气管道也已经锈蚀，居民都担心哪天会漏气。"
    "旁边的工厂排放的废气污染严重，晚上气味刺鼻。我们多次向物业和社区反映，"
    "物业答应整改，但一直没有行动。" * 6 + "恳请有关部门尽快督促整改，消除隐患。"
)


def test_a_long_written_complaint_about_hazards_is_not_an_emergency(
    classifier: Classifier,
) -> None:
    analysis = classifier.analyse(LONG_COMPLAINT)
    assert len(LONG_COMPLAINT) > 1000
    assert analysis.written
    assert analysis.classification.emergency is None
    assert analysis.classification.in_scope is True
    assert analysis.classification.department is not None


def test_a_written_message_stating_a_present_danger_is_an_emergency(
    classifier: Classifier,
) -> None:
    text = (
        "求助！某小区的居民楼\n我住在某某小区三号楼七楼，今天下午出门前还好好的。"
        "现在对面六楼的阳台正在着火，火很大，烟已经冲到我们这边了，楼里还有老人没下来。"
        "我们已经从楼梯跑到了楼下，可是消防车还没有到，我很着急。请马上派消防车。"
        "我的电话一直开着，到了小区门口我可以带路。"
    )
    analysis = classifier.analyse(text)
    assert analysis.written
    assert analysis.classification.emergency == "119"


def test_sentences_split_a_written_message() -> None:
    assert sentences("标题\n第一句。第二句！第三句") == ["标题\n", "第一句。", "第二句！", "第三句"]
    assert sentences("我家暖气不热") == ["我家暖气不热"]


def test_a_text_over_the_limit_is_refused_with_the_limit(classifier: Classifier) -> None:
    with pytest.raises(ClassifyError) as err:
        classifier.classify("暖" * (MAX_TEXT_CHARS + 1))
    assert err.value.error_id == "too_long"
    assert str(MAX_TEXT_CHARS) in str(err.value)
    classifier.classify("暖气不热。" * (MAX_TEXT_CHARS // 5))  # at the limit: classified


# ---- sounds ---------------------------------------------------------------------------------


def test_sound_folding_reads_key_words_back_and_leaves_real_words() -> None:
    folder = SoundFolder(["公积金", "物业费"], short=["着火", "抽搐", "失火", "物业"])
    assert folder.fold("我家着伙了") == "我家着火了"
    assert folder.fold("公积经怎么提") == "公积金怎么提"  # jing ~ jin
    assert folder.fold("抽出时间") == "抽出时间"  # a real word that sounds like 抽搐
    assert folder.fold("我无业在家") == "我无业在家"
    assert folder.fold("是火苗") == "是火苗"  # 是 is too common to be a misheard 失


def test_the_canonical_form_keeps_exactly_letters_and_digits() -> None:
    kept = [c for c in range(0x110000) if text_module._keep(chr(c))]
    assert all(not text_module._NOT_KEPT.fullmatch(chr(c)) for c in kept)
    assert text_module.canonical("Ａ１，_二 ①！") == "a一二一"  # ① is 1 after NFKC


def test_normalize_reads_recogniser_homophones_by_sound() -> None:
    assert normalize("着 伙 了") == "着火了"
    assert normalize("公 积 经 怎么 提") == "公积金怎么提"
    assert normalize("反应 一个 问题") == "反应一个问题"  # no table folding a real word


# ---- out of scope, follow-ups, enterprises ----------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        ("unreasonable", "我闺女研究生毕业了，你们给她安排个工作"),
        ("unreasonable", "明天天气怎么样，要不要带伞"),
        ("unreasonable", "你们帮我去药店买点药送到家"),
        ("unreasonable", "楼下那个人老瞪我，你们把他抓起来"),
        ("in_legal_process", "他骗了我的钱，我已经报警了，派出所立了案"),
        ("in_legal_process", "工伤的事我已经申请了劳动仲裁，还没开庭"),
        ("privacy", "帮我查一下我们单位同事的家庭住址"),
    ],
)
def test_out_of_scope_reasons_beyond_the_templates(
    classifier: Classifier, reason: str, text: str
) -> None:
    result = classifier.classify(text)
    assert result.out_of_scope_reason == reason
    assert result.department is None


@pytest.mark.parametrize(
    "text",
    [
        "我 的 工 单 号 是 二 零 二 六 零 一 一 五 零 零 零 三 七",
        "你好，我想问问我上周反映的路灯的事，现在什么进度了",
        "说好三天给答复的，一个礼拜了还没回复，催一下",
        "刚才有个未接来电是你们打的吧，我回个电话",
    ],
)
def test_follow_ups(classifier: Classifier, text: str) -> None:
    assert classifier.classify(text).intent == "follow_up"


def test_a_new_request_is_not_a_follow_up(classifier: Classifier) -> None:
    assert classifier.classify("我家楼下的路灯坏了").intent == "new_request"


def test_an_enterprise_and_its_employee(classifier: Classifier) -> None:
    assert classifier.classify("我们公司想问一下研发费用加计扣除怎么申请").enterprise is True
    assert classifier.classify("我们工厂要办排污许可证，找哪个部门").enterprise is True
    assert classifier.classify("我们公司拖欠我三个月工资了").enterprise is False


# ---- the dispatch catalogue ----------------------------------------------------------------


def test_a_catalogue_matter_names_the_department_and_the_explanation(
    classifier: Classifier,
) -> None:
    analysis = classifier.analyse("小区门口的路灯坏了好几天了，晚上黑乎乎的")
    assert analysis.matter is not None
    assert analysis.classification.department == analysis.matter.department
    assert analysis.matter.matter.name in (analysis.explanation or "")
    assert set(analysis.classification.to_dict()) == {
        "intent",
        "emergency",
        "in_scope",
        "out_of_scope_reason",
        "kind",
        "domain",
        "department",
        "enterprise",
        "confidence",
        "route",
    }


def test_without_a_catalogue_the_model_decides(classifier: Classifier) -> None:
    bare = Classifier(LinearModel.load(), catalogue=None)
    analysis = bare.analyse("小区门口的路灯坏了好几天了，晚上黑乎乎的")
    assert analysis.matter is None
    assert analysis.classification.department is not None


def test_use_catalogue_swaps_the_default_classifiers_catalogue() -> None:
    text = "楼下的卤味铺子天天卖隔夜的鸭脖"
    own = Catalogue.from_data(
        {
            "matters": [
                {
                    "id": "market.braised_food",
                    "name": "卤味食品安全",
                    "department": "market_supervision",
                    "domain": "market_regulation",
                    "deadline_class": "general",
                    "keywords": ["卤味铺子"],
                }
            ]
        }
    )
    try:
        use_catalogue(own)
        analysis = classifier_module.default_classifier().analyse(text)
        assert analysis.matter is not None and analysis.matter.matter.id == "market.braised_food"
        assert analysis.classification.department == "market_supervision"
    finally:
        use_catalogue(default_catalogue())
    again = classifier_module.default_classifier().analyse(text)
    assert again.matter is None or again.matter.matter.id != "market.braised_food"
