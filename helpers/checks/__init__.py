"""Checks for visible tests: each raises ``AssertionError`` with a hint a student can act on.

Every message says what was expected ("want") and what was received ("got"), or, from
``check_that``, the sentence the test wrote about a yes-or-no fact ("build_cnn() has 250,000
parameters; keep it under 200,000.").
The checks never compute an exercise's answer; they only compare.
The checks live by concern (`values`, `models`, `concepts`, and `_base`, what they share);
notebooks use them as ``from helpers import checks`` and ``checks.check_equal(...)``.
"""

from helpers.checks._base import plain
from helpers.checks.concepts import CONCEPT_KINDS, check_concept, seal_concept  # noqa: F401
from helpers.checks.models import (check_compiled, check_history, check_keras_model, check_layer,
                                   check_layers, check_param_count, replay_callbacks,
                                   scheduled_rate)
from helpers.checks.values import (check_at_least, check_close, check_dtype, check_equal,
                                   check_raises, check_range, check_shape, check_that,
                                   check_type)

__all__ = [
    "check_equal",
    "check_that",
    "check_raises",
    "check_type",
    "check_shape",
    "check_dtype",
    "check_range",
    "check_close",
    "check_at_least",
    "check_layers",
    "check_layer",
    "check_param_count",
    "check_compiled",
    "check_history",
    "check_concept",
    "seal_concept",
    "plain",
    "check_keras_model",
    "scheduled_rate",
    "replay_callbacks",
]
