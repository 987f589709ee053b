"""The survey document and what its answers mean for the order."""

from __future__ import annotations

import copy

import pytest

from hotline.outbound.survey import (
    DEFAULT_SURVEY,
    SurveyAnswers,
    SurveyDocumentError,
    callback_result,
    parse_survey,
    reopen_reason,
    verdict,
)


def test_the_shipped_survey_is_valid() -> None:
    doc = parse_survey(DEFAULT_SURVEY)
    assert [q.name for q in doc.questions] == ["solved", "satisfaction"]
    assert doc.transfer.key == "0" and doc.transfer.queue == "callback"


def test_every_problem_is_named_with_its_place() -> None:
    data = copy.deepcopy(DEFAULT_SURVEY)
    data["questions"][0]["answers"] = {"1": "yes", "x": True}
    data["questions"][1]["answers"]["4"] = "delighted"
    del data["prompts"]["survey-thanks"]
    with pytest.raises(SurveyDocumentError) as error:
        parse_survey(data)
    message = str(error.value)
    assert "questions[0] (solved).answers[1]: true or false" in message
    assert "key 'x' is not one of 1-9" in message
    assert "questions[1] (satisfaction).answers[4]" in message
    assert "prompts.survey-thanks: no mandarin text" in message


def test_solved_and_satisfied_closes_anything_else_reopens() -> None:
    def answers(solved: bool | None, satisfaction: str | None, keys: str) -> SurveyAnswers:
        given: dict[str, bool | str] = {}
        if solved is not None:
            given["solved"] = solved
        if satisfaction is not None:
            given["satisfaction"] = satisfaction
        return SurveyAnswers(answers=given, keys=keys)

    assert verdict(answers(True, "satisfied", "11")) == "close"
    assert verdict(answers(True, "basically_satisfied", "12")) == "close"
    assert verdict(answers(True, "unsatisfied", "13")) == "reopen"
    assert verdict(answers(False, "satisfied", "21")) == "reopen"
    assert verdict(answers(False, None, "2")) == "reopen"
    assert verdict(answers(True, None, "1")) == "incomplete"
    assert verdict(answers(None, None, "")) == "no_key"
    assert verdict(SurveyAnswers(keys="0", transferred=True)) == "transferred"
    unhappy = answers(False, "unsatisfied", "23")
    assert callback_result(unhappy) == {"solved": False, "satisfaction": "unsatisfied"}
    assert callback_result(answers(False, None, "2")) is None
    assert reopen_reason(unhappy) == "回访: 未解决，不满意 (按键 23)"
