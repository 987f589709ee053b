"""`classify(text) -> Classification`: rules first, then the model, then a default route.

Theory of operation, in the order the decisions are taken:
1. The text is checked (a `str` with some letters in it) and normalised (routing.text).
2. Emergency rules (routing.emergency) run on the whole text. A rule hit is an emergency. With
   no rule hit, the model's emergency head can still flag one when it is confident
   (EMERGENCY_BACKSTOP), unless the rules saw emergency words and set them aside as negated or
   past: those were read on purpose.
3. Out-of-scope rules (routing.scope); failing those, the model's scope head.
4. The model decides intent (new request or follow-up), kind, domain, department and enterprise.
   An out-of-scope request gets no department (no work order goes out); a follow-up gets one
   only if the model is fairly sure which matter it is about.
5. `route` is a default suggestion (routing.route); the call router owns the final decision.

`confidence` is the calibrated probability of the decision that matters most for the call: the
department for an in-scope request, the scope reason for an out-of-scope one, the intent for a
follow-up, and the rule's fixed confidence for an emergency.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, cast

from pydantic import BaseModel, ConfigDict, Field

from routing import emergency as emergency_rules
from routing import scope as scope_rules
from routing.model import MODEL_PATH, HeadScores, LinearModel
from routing.route import Route, default_route
from routing.taxonomy import (
    Department,
    Domain,
    EmergencyNumber,
    Intent,
    Kind,
    OutOfScopeReason,
)
from routing.text import han_count, has_mongolian, normalize

MAX_MODEL_CHARS: Final = 2_000  # the model reads the start of a long text; the rules read all
EMERGENCY_BACKSTOP: Final = 0.9
RULE_CONFIDENCE: Final = 0.95
SCOPE_MODEL_THRESHOLD: Final = 0.5
FOLLOW_UP_THRESHOLD: Final = 0.5
FOLLOW_UP_DEPARTMENT_MIN: Final = 0.5
ENTERPRISE_THRESHOLD: Final = 0.5


class ClassifyError(ValueError):
    """The input cannot be classified; `error_id` says why, the message says what to do."""

    def __init__(self, error_id: str, message: str) -> None:
        super().__init__(message)
        self.error_id = error_id


class Classification(BaseModel):
    """The classifier's output: exactly the object of docs/taxonomy.md."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    intent: Intent
    emergency: EmergencyNumber | None
    in_scope: bool
    out_of_scope_reason: OutOfScopeReason | None
    kind: Kind | None
    domain: Domain | None
    department: Department | None
    enterprise: bool
    confidence: float = Field(ge=0.0, le=1.0)
    route: Route

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON object as a dict (keys in the contract's order)."""
        return self.model_dump(mode="json")

    def to_json(self) -> str:
        return self.model_dump_json()


@dataclass(frozen=True, slots=True)
class Analysis:
    """A classification with what led to it, for the operator's screen and for debugging."""

    classification: Classification
    explanation: str | None  # suggested words for an out-of-scope or emergency call
    evidence: tuple[str, ...]  # rule words that decided, if a rule decided
    scores: dict[str, HeadScores]


class Classifier:
    """Classifies request texts with one loaded model; safe to share between threads."""

    def __init__(self, model: LinearModel) -> None:
        self._model = model

    @classmethod
    def from_path(cls, path: Path = MODEL_PATH) -> Classifier:
        return cls(LinearModel.load(path))

    def classify(self, text: str) -> Classification:
        """Classify one request; raises ClassifyError on input with nothing to classify."""
        return self.analyse(text).classification

    def analyse(self, text: str) -> Analysis:
        """Like `classify`, keeping the explanation, the rule evidence and the model scores."""
        if not isinstance(text, str):
            raise ClassifyError("not_text", f"expected text (str), got {type(text).__name__}")
        normalized = normalize(text)
        if not normalized:
            raise ClassifyError(
                "empty_text", "the text is empty or holds no letters or digits to classify"
            )
        scores = self._model.scores(normalized[:MAX_MODEL_CHARS])
        mongolian = has_mongolian(text)
        understood = han_count(text) > 0  # digits read out as 一二三 do not count

        found = emergency_rules.detect(normalized)
        number: str | None = found.number
        evidence = found.evidence
        confidence = RULE_CONFIDENCE
        if number is None and not found.suppressed and understood:
            label, p = scores["emergency"].best()
            if label != "none" and p >= EMERGENCY_BACKSTOP:
                number, confidence = label, p
        if number is not None:
            result = Classification(
                intent="emergency",
                emergency=cast(EmergencyNumber, number),
                in_scope=False,
                out_of_scope_reason="emergency",
                kind=None,
                domain=None,
                department=None,
                enterprise=False,
                confidence=round(confidence, 4),
                route=default_route("emergency", enterprise=False, mongolian=mongolian),
            )
            return Analysis(result, scope_rules.explanation("emergency"), evidence, scores)

        scope = scope_rules.detect(normalized)
        reason: str | None = scope.reason
        evidence = scope.evidence
        if reason is not None:
            confidence = RULE_CONFIDENCE
        else:
            label, p = scores["scope"].best()
            if label != "in_scope" and p >= SCOPE_MODEL_THRESHOLD:
                reason, confidence = label, p

        follow_up = scores["intent"].prob("follow_up") >= FOLLOW_UP_THRESHOLD
        kind, _ = scores["kind"].best()
        domain, _ = scores["domain"].best()
        department: str | None
        department, p_department = scores["department"].best()
        enterprise = scores["enterprise"].prob("yes") >= ENTERPRISE_THRESHOLD

        if reason is not None:
            department = None
        elif follow_up:
            confidence = scores["intent"].prob("follow_up")
            if p_department < FOLLOW_UP_DEPARTMENT_MIN:
                department = None
        else:
            confidence = p_department
        if not understood:  # no Chinese at all: the model's guess is noise, say so
            department, confidence = None, 0.0

        intent: Intent = "follow_up" if follow_up else "new_request"
        result = Classification(
            intent=intent,
            emergency=None,
            in_scope=reason is None,
            out_of_scope_reason=cast(OutOfScopeReason | None, reason),
            kind=cast(Kind, kind),
            domain=cast(Domain, domain),
            department=cast(Department | None, department),
            enterprise=enterprise,
            confidence=round(float(confidence), 4),
            route=default_route(
                intent, enterprise=enterprise, mongolian=mongolian, out_of_scope=reason is not None
            ),
        )
        return Analysis(result, scope_rules.explanation(reason), evidence, scores)


@lru_cache(maxsize=1)
def default_classifier() -> Classifier:
    """The classifier over the packaged model, loaded once on first use (read-only after)."""
    return Classifier.from_path(MODEL_PATH)


def classify(text: str) -> Classification:
    """Classify one request with the packaged model; see Classifier.classify."""
    return default_classifier().classify(text)
