"""Pure: a patient's SMS text -> what it says (pain 0-10, numbness yes/no, exercises done, red flags,
and what could not be accounted for). The reading itself is followup/reading.py over the programme's
lexicons (followup/data/lexicons/); this is the door the inbound handler and the rules use.

Reading is pure, so a reading is cached by its text: simulate and busy webhooks see the same short
replies ("DONE", "3 N") thousands of times.
"""

from __future__ import annotations

from functools import lru_cache

from .reading import FLAGS, Reading, read

Answer = Reading
__all__ = ["FLAGS", "Answer", "parse"]


@lru_cache(maxsize=8192)
def parse(text: str, language: str = "en", programme: str = "upper-back") -> Answer:
    return read((text or "")[:1600], language, programme)
