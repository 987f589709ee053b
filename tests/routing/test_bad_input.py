"""Bad input gives a clear result or a clear error, never a crash."""

from __future__ import annotations

import random

import pytest

from routing import Classifier, ClassifyError
from routing.classifier import MAX_TEXT_CHARS


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "，。！？", "\x00\x01\x02"])
def test_empty_text_is_a_clear_error(classifier: Classifier, text: str) -> None:
    with pytest.raises(ClassifyError) as info:
        classifier.classify(text)
    assert info.value.error_id == "empty_text"


def test_not_a_string_is_a_clear_error(classifier: Classifier) -> None:
    with pytest.raises(ClassifyError) as info:
        classifier.classify(b"\xe6\x9a\x96\xe6\xb0\x94")  # type: ignore[arg-type]
    assert info.value.error_id == "not_text"


def test_100_kb_of_text_is_refused_with_the_limit(classifier: Classifier) -> None:
    text = ("我家暖气不热，屋里太冷了。" * 3000)[: 100 * 1024 // 3]
    with pytest.raises(ClassifyError) as err:
        classifier.classify(text)
    assert err.value.error_id == "too_long"
    assert f"at most {MAX_TEXT_CHARS}" in str(err.value)


def test_a_long_text_up_to_the_limit_is_classified(classifier: Classifier) -> None:
    text = ("我家暖气不热，屋里太冷了。" * 3000)[:MAX_TEXT_CHARS]
    assert classifier.classify(text).department == "heating"


def test_emergency_at_the_end_of_a_long_text_is_still_found(classifier: Classifier) -> None:
    text = "我想咨询一下社保的事情。" * 400 + "哎呀楼道着火了"
    assert classifier.classify(text).emergency == "119"


def test_binary_junk(classifier: Classifier) -> None:
    rng = random.Random(7)
    junk = bytes(rng.randrange(256) for _ in range(4096)).decode("latin-1")
    try:
        result = classifier.classify(junk)
    except ClassifyError as exc:
        assert exc.error_id == "empty_text"
    else:  # latin-1 letters survive: a result that says it understood nothing
        assert result.department is None
        assert result.confidence == 0.0
        assert result.emergency is None


@pytest.mark.parametrize("text", ["my heating does not work", "Hallo, wie geht's?", "12345"])
def test_non_chinese_text_is_a_low_confidence_result(classifier: Classifier, text: str) -> None:
    result = classifier.classify(text)
    assert result.intent in ("new_request", "follow_up")
    assert result.department is None
    assert result.confidence == 0.0
    assert result.route.group in ("intake", "dispatch")


def test_mongolian_script_asks_for_a_mongolian_speaker(classifier: Classifier) -> None:
    result = classifier.classify("ᠮᠣᠩᠭᠣᠯ ᠬᠡᠯᠡ")
    assert "mongolian" in result.route.skills
