"""The satisfaction survey (回访): a small document ops edit and version, and the call that
plays it.

The document is not a menu: a survey always asks the same two things (was it solved, how
satisfied), in order, and files the answers on the work order, so it is a list of questions,
each with a prompt and a key -> answer table, plus a key that reaches the callback group in
person. Its prompts are named like the menus' (`survey-...`): an uploaded recording of that
name replaces the espeak-ng placeholder made from the text. Versions are stored by
`OutboundStore` (add, make live, roll back by making an older one live).

`run_survey` plays the live document on an answered call in AsyncAGI and returns what the
citizen keyed; `verdict` says what that means for the order.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hotline.orders.store import SATISFACTION
from telephony.agi import AGISession

log = logging.getLogger("hotline.outbound")

LANGUAGES = ("mandarin", "mongolian")
KEYS = "123456789"


class SurveyDocumentError(ValueError):
    """A survey document that cannot be used; the message names every problem."""

    error_id = "survey-invalid"
    status = 422


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: what the answer fills in on the order: solved (true/false) or satisfaction
    name: Literal["solved", "satisfaction"]
    prompt: str = Field(pattern=r"^survey-[a-z0-9_\-]{1,40}$")
    #: key -> answer: true/false for solved, one of SATISFACTION for satisfaction
    answers: dict[str, bool | str]


class Transfer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field("0", pattern=r"^[0*#]$")
    queue: str = Field("callback", pattern=r"^[a-z][a-z0-9\-]{0,31}$")
    prompt: str | None = Field(None, pattern=r"^survey-[a-z0-9_\-]{1,40}$")


class SurveyDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Literal["mandarin", "mongolian"] = "mandarin"
    #: prompt name -> language -> text (the placeholder's words)
    prompts: dict[str, dict[str, str]]
    intro: str | None = Field(None, pattern=r"^survey-[a-z0-9_\-]{1,40}$")
    questions: list[Question] = Field(min_length=2, max_length=2)
    transfer: Transfer = Field(
        default_factory=lambda: Transfer(key="0", queue="callback", prompt=None)
    )
    #: seconds to wait for a key after a question
    timeout: float = Field(6.0, ge=2.0, le=20.0)
    #: times a question is asked again after no key or a wrong one
    repeats: int = Field(1, ge=0, le=3)
    invalid: str | None = Field(None, pattern=r"^survey-[a-z0-9_\-]{1,40}$")
    thanks: str | None = Field(None, pattern=r"^survey-[a-z0-9_\-]{1,40}$")

    @model_validator(mode="after")
    def _check(self) -> SurveyDocument:
        problems = document_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def prompt_names(self) -> list[str]:
        names = [self.intro, *(q.prompt for q in self.questions), self.invalid, self.thanks]
        names.append(self.transfer.prompt)
        return [name for name in names if name]


def document_problems(doc: SurveyDocument) -> list[str]:
    problems: list[str] = []
    names = [q.name for q in doc.questions]
    if sorted(names) != ["satisfaction", "solved"]:
        problems.append("questions: one named 'solved' and one named 'satisfaction'")
    for i, question in enumerate(doc.questions):
        where = f"questions[{i}] ({question.name})"
        if not question.answers:
            problems.append(f"{where}.answers: at least one key")
        for key, answer in question.answers.items():
            if key not in KEYS:
                problems.append(f"{where}.answers: key {key!r} is not one of 1-9")
            if question.name == "solved" and not isinstance(answer, bool):
                problems.append(f"{where}.answers[{key}]: true or false")
            if question.name == "satisfaction" and answer not in SATISFACTION:
                problems.append(f"{where}.answers[{key}]: one of {', '.join(SATISFACTION)}")
    for name in doc.prompt_names():
        texts = doc.prompts.get(name)
        if not texts or not (texts.get(doc.language) or "").strip():
            problems.append(f"prompts.{name}: no {doc.language} text")
    for name, texts in doc.prompts.items():
        for language, text in texts.items():
            if language not in LANGUAGES:
                problems.append(f"prompts.{name}: language {language!r} unknown")
            if len(text) > 500:
                problems.append(f"prompts.{name}.{language}: at most 500 characters")
    return problems


def parse_survey(data: Any) -> SurveyDocument:
    """A checked document from parsed JSON/YAML, or SurveyDocumentError naming each
    problem and where it is."""
    try:
        return SurveyDocument.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "document"
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{where}: {message}" if where != "document" else message)
        raise SurveyDocumentError("; ".join(problems)) from None


DEFAULT_SURVEY: dict[str, Any] = {
    "language": "mandarin",
    "prompts": {
        "survey-intro": {"mandarin": "您好，这里是12345热线，现在对您反映的问题进行回访。"},
        "survey-solved": {
            "mandarin": "您反映的问题是否已解决？解决请按1，未解决请按2，转人工请按0。"
        },
        "survey-satisfaction": {"mandarin": "对处理结果满意请按1，基本满意按2，不满意按3。"},
        "survey-invalid": {"mandarin": "输入有误。"},
        "survey-thanks": {"mandarin": "感谢您的评价，再见。"},
        "survey-transfer": {"mandarin": "正在为您转接回访人员，请稍候。"},
    },
    "intro": "survey-intro",
    "questions": [
        {"name": "solved", "prompt": "survey-solved", "answers": {"1": True, "2": False}},
        {
            "name": "satisfaction",
            "prompt": "survey-satisfaction",
            "answers": {"1": "satisfied", "2": "basically_satisfied", "3": "unsatisfied"},
        },
    ],
    "transfer": {"key": "0", "queue": "callback", "prompt": "survey-transfer"},
    "timeout": 6.0,
    "repeats": 1,
    "invalid": "survey-invalid",
    "thanks": "survey-thanks",
}


@dataclass
class SurveyAnswers:
    """What the citizen keyed: the answers by question name, every key in order, and
    whether they asked for a person."""

    answers: dict[str, bool | str] = field(default_factory=dict)
    keys: str = ""
    transferred: bool = False
    hung_up: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "answers": dict(self.answers),
            "keys": self.keys,
            "transferred": self.transferred,
            "hung_up": self.hung_up,
        }


Verdict = Literal["close", "reopen", "transferred", "no_key", "incomplete"]


def verdict(result: SurveyAnswers) -> Verdict:
    """What the answers mean for the order: solved and (basically) satisfied closes it; not
    solved or not satisfied reopens it for dispatch; a citizen who pressed the transfer key
    talks to the callback group; no key at all is an unanswered try, and solved without a
    satisfaction is one that must be asked again."""
    if result.transferred:
        return "transferred"
    solved = result.answers.get("solved")
    satisfaction = result.answers.get("satisfaction")
    if solved is False or satisfaction == "unsatisfied":
        return "reopen"
    if solved is True and satisfaction in ("satisfied", "basically_satisfied"):
        return "close"
    return "no_key" if not result.keys else "incomplete"


def callback_result(result: SurveyAnswers) -> dict[str, Any] | None:
    """The order's callback_result, when both answers were given."""
    solved = result.answers.get("solved")
    satisfaction = result.answers.get("satisfaction")
    if isinstance(solved, bool) and satisfaction in SATISFACTION:
        return {"solved": solved, "satisfaction": satisfaction}
    return None


def reopen_reason(result: SurveyAnswers) -> str:
    """The reason written on a reopened order, with the answers."""
    solved = result.answers.get("solved")
    satisfaction = result.answers.get("satisfaction")
    parts = ["回访: " + ("已解决" if solved is True else "未解决" if solved is False else "未答")]
    labels = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}
    parts.append(labels.get(str(satisfaction), "满意度未答"))
    return "，".join(parts) + f" (按键 {result.keys or '-'})"


#: resolve(prompt name) -> the file Asterisk plays, or None
Resolve = Callable[[str], str | None]


async def run_survey(
    session: AGISession, doc: SurveyDocument, resolve: Resolve, tag: str = ""
) -> SurveyAnswers:
    """Play the survey on an answered call and collect the keys. A transfer key sends the
    call to the transfer queue (tagged `tag` for the operator's phone); otherwise the call is
    hung up after the thanks. Never raises for a citizen who hangs up: `hung_up` says so."""
    from telephony.agi import ChannelHungUp

    result = SurveyAnswers()
    transfer_key = doc.transfer.key
    try:
        if doc.intro and (intro := resolve(doc.intro)):
            pressed = await session.play(intro, transfer_key, expected=20)
            if pressed == transfer_key:
                result.keys += pressed
                await _transfer(session, doc, resolve, tag, result)
                return result
        for question in doc.questions:
            prompt = resolve(question.prompt)
            if prompt is None:
                raise RuntimeError(f"survey prompt {question.prompt!r} has no file")
            for _ in range(doc.repeats + 1):
                digits, _timed_out = await session.collect_digits(prompt, timeout=doc.timeout)
                result.keys += digits
                if digits == transfer_key:
                    await _transfer(session, doc, resolve, tag, result)
                    return result
                if digits in question.answers:
                    result.answers[question.name] = question.answers[digits]
                    break
                if digits and doc.invalid and (invalid := resolve(doc.invalid)):
                    await session.play(invalid, expected=10)
            else:
                break  # no usable key: the rest is not asked
        if doc.thanks and result.answers and (thanks := resolve(doc.thanks)):
            await session.play(thanks, expected=15)
        await session.hangup()
    except ChannelHungUp:
        result.hung_up = True
    return result


async def _transfer(
    session: AGISession, doc: SurveyDocument, resolve: Resolve, tag: str, result: SurveyAnswers
) -> None:
    result.transferred = True
    if doc.transfer.prompt and (prompt := resolve(doc.transfer.prompt)):
        await session.play(prompt, expected=15)
    if tag:
        await session.set_variable("HOTLINE_TAG", tag)
    await session.continue_in_dialplan("hotline-queues", doc.transfer.queue)


def document_text(doc: SurveyDocument | dict[str, Any]) -> str:
    data = doc.model_dump() if isinstance(doc, SurveyDocument) else doc
    return json.dumps(data, ensure_ascii=False, indent=2)
