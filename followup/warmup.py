"""Load the reader before the first reply needs it.

The reader loads lazily: the lexicons, spaCy and a medspaCy ConText pipeline per language take
seconds on first use, so the first reply after `followup serve` starts could outlast the webhook's
5 s database deadline and get the holding reply instead of "call 911" (review of issue 15, 6).
`followup serve` calls reader() in its startup hook, before uvicorn accepts a request.
"""

from __future__ import annotations

import logging
import time

from .messages import LANGUAGES
from .programs import all_programs
from .reading import read

log = logging.getLogger("followup.warmup")

# A reply that reaches every stage: a number, a word the lexicon knows, a negation for ConText.
_SAMPLE = {"en": "pain 3, no numbness in my legs", "es": "dolor 3, no tengo adormecimiento en las piernas"}


def reader() -> float:
    """Every programme's lexicons and ConText pipelines, in every language; the seconds it took."""
    started = time.monotonic()
    for rules in sorted({p.rules for p in all_programs().values()}):
        for language in LANGUAGES:
            read(_SAMPLE.get(language, "3"), language, rules)
    took = time.monotonic() - started
    log.info("reader loaded in %.1f s", took)
    return took
