"""`classify(text) -> Classification`: rules first, then the model, then a default route.

Theory of operation, in the order the decisions are taken:
1. The text is checked (a `str` with some letters in it, at most MAX_TEXT_CHARS characters)
   and normalised (routing.text). A text is *written* (the title and body of a web or WeChat
   message) when it is punctuated into sentences and longer than WRITTEN_MIN_CHARS; anything
   else is read as speech (a caller's words, clean or as the recogniser wrote them).
2. Emergency rules (routing.emergency) run on the whole text: speech as one stretch, a written
   message sentence by sentence (an emergency only where a sentence says the danger is present).
   A rule hit is an emergency. With no rule hit, the model's emergency head can still flag
   spoken words when it is confident (EMERGENCY_BACKSTOP), unless the rules saw emergency words
   and set them aside as negated, past or a hazard: those were read on purpose.
3. Out-of-scope rules (routing.scope); failing those, the model's scope head.
4. Intent: a follow-up cue (routing.cues: an order number read out, 进度, 催, a returned call)
   or the model's intent head. Enterprise: a cue (speaking as a company) or the model's head.
5. Department: the dispatch catalogue (routing.catalogue) names the matter when one of its
   terms is convincingly in the text (CATALOGUE_MIN_SCORE); its department is then the
   matter's and the explanation names the matter. Otherwise the model's department head
   decides, and also when it is MODEL_OVER_MATTER sure of another department. The domain is
   the department's; kind (and the domain of a request with no department) come from the
   model. An out-of-scope request gets no department (no work order goes out); a follow-up
   gets one only if the matter or the model is clear.
6. `route` is a default suggestion (routing.route); the call router owns the final decision.

`confidence` is the calibrated probability of the decision that matters most for the call: the
department for an in-scope request, the scope reason for an out-of-scope one, the intent for a
follow-up, and the rule's fixed confidence for an emergency.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from routing import emergency as emergency_rules
from routing import scope as scope_rules
from routing.catalogue import Catalogue, MatterMatch, default_catalogue
from routing.corpus_templates import DEPARTMENT_DOMAIN
from routing.cues import read_cues
from routing.followup import read_order_number
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
from routing.text import canonical, han_count, has_mongolian, read_by_sound, sentences

MAX_TEXT_CHARS: Final = 6_000  # a long written message (title and body) fits; more is refused
MAX_MODEL_CHARS: Final = 1_200  # the model reads the start (title, opening); the rules all
WRITTEN_MIN_CHARS: Final = 100
# A matter names the department when one of its terms (two characters or more) is in the text,
# unless the model is at least MODEL_OVER_MATTER sure of another department; both chosen by
# cross-validation on the training split (routing.build.validate): department 86.9% with the
# model alone, 85.9% with the catalogue at score 3 always, 90.4% with these.
CATALOGUE_MIN_SCORE: Final = 2.0
MODEL_OVER_MATTER: Final = 0.95
EMERGENCY_BACKSTOP: Final = 0.9
RULE_CONFIDENCE: Final = 0.95
SCOPE_MODEL_THRESHOLD: Final = 0.5
FOLLOW_UP_THRESHOLD: Final = 0.5
FOLLOW_UP_DEPARTMENT_MIN: Final = 0.5
ENTERPRISE_THRESHOLD: Final = 0.5
MATTER_CONFIDENCE: Final = 0.8  # a department named by a catalogue matter


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
    matter: MatterMatch | None = None  # the catalogue matter that named the department
    written: bool = False  # read as a written message (sentence by sentence)


_SHIPPED: Final = "shipped"


class Classifier:
    """Classifies request texts with one loaded model and a dispatch catalogue; safe to share
    between threads (`use_catalogue` swaps one reference)."""

    def __init__(
        self, model: LinearModel, catalogue: Catalogue | Literal["shipped"] | None = _SHIPPED
    ) -> None:
        """`catalogue`: the shipped one by default (loaded on first use), or None for none."""
        self._model = model
        self._catalogue = catalogue
        # the catalogue matched on characters only, for typed text: (catalogue, twin)
        self._typed: tuple[Catalogue, Catalogue] | None = None

    @classmethod
    def from_path(cls, path: Path = MODEL_PATH) -> Classifier:
        return cls(LinearModel.load(path))

    @property
    def catalogue(self) -> Catalogue | None:
        if isinstance(self._catalogue, str):  # the shipped one, loaded on first use
            self._catalogue = default_catalogue()
        return self._catalogue

    def use_catalogue(self, catalogue: Catalogue | None) -> None:
        """Decide departments with `catalogue` from now on (None: the model alone)."""
        self._catalogue = catalogue

    def classify(self, text: str) -> Classification:
        """Classify one request; raises ClassifyError on input with nothing to classify."""
        return self.analyse(text).classification

    def _typed_twin(self, catalogue: Catalogue) -> Catalogue:
        """The same matters matched on characters only (matching by sound is the slow part
        on a text of thousands of characters), built once per catalogue."""
        pair = self._typed
        if pair is None or pair[0] is not catalogue:
            pair = (catalogue, Catalogue.from_data(catalogue.to_data(), by_sound=False))
            self._typed = pair
        return pair[1]

    def _matter(self, text: str, written: bool) -> MatterMatch | None:
        catalogue = self.catalogue
        if catalogue is None:
            return None
        if written and catalogue.by_sound:  # typed text has no recogniser homophones
            catalogue = self._typed_twin(catalogue)
        found = catalogue.match(text, limit=1)
        if found and found[0].score >= CATALOGUE_MIN_SCORE:
            return found[0]
        return None

    def analyse(self, text: str) -> Analysis:
        """Like `classify`, keeping the explanation, the rule evidence, the model scores and
        the catalogue matter."""
        if not isinstance(text, str):
            raise ClassifyError("not_text", f"expected text (str), got {type(text).__name__}")
        if len(text) > MAX_TEXT_CHARS:
            raise ClassifyError(
                "too_long",
                f"the text has {len(text)} characters; at most {MAX_TEXT_CHARS} are classified "
                "(send the title and the body of a message, not attachments)",
            )
        parts = sentences(text)
        canonical_parts = [canonical(part) for part in parts]
        written = len(parts) > 1 and sum(map(len, canonical_parts)) >= WRITTEN_MIN_CHARS
        # Typed text has no recogniser homophones: only speech is read by sound.
        normalized_parts = (
            canonical_parts if written else [read_by_sound(part) for part in canonical_parts]
        )
        normalized = "".join(normalized_parts)  # no key word spans two sentences
        if not normalized:
            raise ClassifyError(
                "empty_text", "the text is empty or holds no letters or digits to classify"
            )
        scores = self._model.scores(normalized[:MAX_MODEL_CHARS])
        mongolian = has_mongolian(text)
        understood = han_count(text) > 0  # digits read out as 一二三 do not count

        found = (
            emergency_rules.detect_written(normalized_parts)
            if written
            else emergency_rules.detect(normalized)
        )
        number: str | None = found.number
        evidence = found.evidence
        confidence = RULE_CONFIDENCE
        if number is None and not found.suppressed and understood and not written:
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
            explanation = scope_rules.explanation("emergency")
            return Analysis(result, explanation, evidence, scores, None, written)

        scope = scope_rules.detect(normalized)
        reason: str | None = scope.reason
        evidence = scope.evidence
        if reason is not None:
            confidence = RULE_CONFIDENCE
        else:
            label, p = scores["scope"].best()
            if label != "in_scope" and p >= SCOPE_MODEL_THRESHOLD:
                if not (label == "privacy" and scope_rules.own_data(normalized)):
                    reason, confidence = label, p

        cues = read_cues(text, normalized)
        if written and cues.follow_up:
            # A written message names its follow-up in the title (进度, 工单) or by the order's
            # number; words of an earlier round (回访, 有没有人管) in the body tell its history.
            title = read_cues(text, normalized_parts[0]).follow_up
            number = read_order_number(text)
            cues = dataclasses.replace(cues, follow_up=title or ((number,) if number else ()))
        follow_up = (
            bool(cues.follow_up) or scores["intent"].prob("follow_up") >= FOLLOW_UP_THRESHOLD
        )
        if reason is not None and follow_up:
            if scope.reason is None and cues.follow_up:
                reason = None  # words about an existing order outweigh the model's reason
            else:
                follow_up = False  # an out-of-scope request is a new request
        kind, _ = scores["kind"].best()
        domain, _ = scores["domain"].best()
        department: str | None
        department, p_department = scores["department"].best()
        enterprise = bool(cues.enterprise) or (
            not cues.employee and scores["enterprise"].prob("yes") >= ENTERPRISE_THRESHOLD
        )
        evidence = evidence + cues.follow_up + cues.enterprise

        matter = self._matter(text, written) if reason is None and understood else None
        if (
            matter is not None
            and p_department >= MODEL_OVER_MATTER
            and department != matter.department
        ):
            matter = None  # the model is surer of another department than one term can be
        if matter is not None:
            department, p_department = matter.department, max(p_department, MATTER_CONFIDENCE)
            evidence = (*evidence, matter.explain())

        if reason is not None:
            department = None
        elif follow_up:
            confidence = max(scores["intent"].prob("follow_up"), 0.9 if cues.follow_up else 0.0)
            if p_department < FOLLOW_UP_DEPARTMENT_MIN:
                department = None
        else:
            confidence = p_department
        if not understood:  # no Chinese at all: the model's guess is noise, say so
            department, confidence = None, 0.0
        if department is not None:  # the domain the department works in (CV: 87.9% vs 79.4%)
            domain = DEPARTMENT_DOMAIN.get(department, domain)

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
        explanation = scope_rules.explanation(reason)
        if explanation is None and matter is not None:
            explanation = matter.explain()
        return Analysis(result, explanation, evidence, scores, matter, written)


@lru_cache(maxsize=1)
def default_classifier() -> Classifier:
    """The classifier over the packaged model, loaded once on first use."""
    return Classifier.from_path(MODEL_PATH)


def use_catalogue(catalogue: Catalogue | None) -> None:
    """Decide departments of the default classifier with `catalogue` from now on (ops
    publishing a catalogue version); None leaves the department to the model alone."""
    default_classifier().use_catalogue(catalogue)


def classify(text: str) -> Classification:
    """Classify one request with the packaged model; see Classifier.classify."""
    return default_classifier().classify(text)
