"""Pre-classification of hotline requests (emergency, scope, kind, domain, department).

`classify(text)` returns a `Classification`, the object of docs/taxonomy.md. This package
is domain code: it never imports the `hotline` application package.
"""

from routing.classifier import (
    Analysis,
    Classification,
    Classifier,
    ClassifyError,
    classify,
    default_classifier,
)
from routing.model import ModelError
from routing.route import Route
from routing.scope import explanation

__all__ = [
    "Analysis",
    "Classification",
    "Classifier",
    "ClassifyError",
    "ModelError",
    "Route",
    "classify",
    "default_classifier",
    "explanation",
]
