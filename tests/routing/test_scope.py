"""Out-of-scope reasons, each with a suggested explanation; look-alikes that stay in scope."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from routing import Classifier
from routing.scope import EXPLANATIONS

OUT_OF_SCOPE = {
    "in_legal_process": [
        "我跟厂里的劳动争议仲裁已经裁决了，可我不服，你们给改改",
        "法院一审已经判了，我要你们政府出面重新处理",
        "官司还在法院审着呢，你们能不能先让对方把钱还我",
    ],
    "privacy": [
        "你们帮我查一下我前夫现在住哪",
        "把我们小区物业经理的身份证号告诉我",
        "帮我调一下隔壁那家公司的客户名单",
    ],
    "public_order": [
        "帮我办个假的学历证明，多少钱都行",
        "你们知道哪能找代孕吗",
        "帮我找几个人去把他家门堵了，吓唬吓唬他",
    ],
    "unreasonable": [
        "我岁数大了还没成家，政府给我介绍个对象吧",
        "我欠了网贷还不上，你们政府帮我还了吧",
        "我想让你们派个车送我去火车站",
    ],
}
CASES = [(r, t) for r, texts in OUT_OF_SCOPE.items() for t in texts]


@pytest.mark.parametrize(("reason", "text"), CASES)
def test_out_of_scope_reason(classifier: Classifier, reason: str, text: str) -> None:
    analysis = classifier.analyse(text)
    result = analysis.classification
    assert result.in_scope is False
    assert result.out_of_scope_reason == reason
    assert result.intent == "new_request"
    assert result.department is None  # no work order, so no department
    assert result.kind is not None and result.domain is not None
    assert analysis.explanation == EXPLANATIONS[reason]


@pytest.mark.parametrize(("reason", "text"), CASES)
def test_out_of_scope_in_recogniser_output(
    classifier: Classifier, reason: str, text: str, spaced: Callable[[str], str]
) -> None:
    assert classifier.classify(spaced(text)).out_of_scope_reason == reason


def test_every_reason_has_an_empathic_explanation() -> None:
    for reason in ("emergency", "in_legal_process", "privacy", "public_order", "unreasonable"):
        words = EXPLANATIONS[reason]
        assert 20 < len(words) < 200
    # The reasons that turn a caller down say why and acknowledge them.
    for reason in ("in_legal_process", "privacy", "unreasonable"):
        assert "理解" in EXPLANATIONS[reason]


@pytest.mark.parametrize(
    "text",
    [
        "公司欠了我三个月工资，我想申请劳动仲裁，去哪儿申请",
        "我想查一下我自己的社保缴费记录",
        "身份证丢了怎么补办",
    ],
)
def test_look_alikes_stay_in_scope(classifier: Classifier, text: str) -> None:
    result = classifier.classify(text)
    assert result.in_scope is True
    assert result.out_of_scope_reason is None
    assert result.department is not None
