"""Pure: whether a word a reply leaves unread is everyday chit-chat ("long shift at work") or may
describe a symptom, and which real words are never typos of a symptom word. The word lists are the
lexicon's (followup/lexicon.py builds them); followup/reading.py and followup/matching.py ask here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from typing import NamedTuple

from rapidfuzz import process
from rapidfuzz.distance import OSA

from .lexicon import OTHER_LANGUAGE, Lexicon, _symptomatic, load


def is_everyday(lexicon: Lexicon, word: str, typos: bool = True) -> bool:
    """An everyday word, or another form or spelling of one ("tomates" of "tomate", "comimos" of
    "comer", "neighbours" of "neighbors"), that is no word a symptom could be described with."""
    return (
        word in lexicon.chit_chat
        or word in lexicon.spoken
        or _everyday_form(lexicon.programme, lexicon.language, word)
        or typos
        and _everyday_typo(lexicon.programme, lexicon.language, word)
    )


@lru_cache(maxsize=16384)
def _everyday_typo(programme: str, language: str, word: str) -> bool:
    """One typo from an everyday word ("groceies", "rememberd") and two or more from every word a
    symptom is described with: the everyday word, mistyped. Short words are left to a person: one
    letter turns too many into another ("bled" of "bed")."""
    lexicon = load(programme, language)
    if len(word) < 6 or word in lexicon.known or _a_word_of_another_language(programme, language, word):
        return False  # a real word is no typo: "sienta" is Spanish, not a typo of an English word
    # Nor may it be a symptom word of either language, mistyped ("dormia" of "dormida"), nor begin
    # like one ("weekness" of weak*, "trembleing" of trembl*).
    for each in (language, *_others(language)):
        symptom = _typo_vocabularies(programme, each)
        if (
            symptom.symptomatic(word)
            or process.extractOne(word, symptom.words, scorer=OSA.distance, score_cutoff=2)
            or any(OSA.distance(word[: len(b)], b, score_cutoff=1) <= 1 for b in symptom.beginnings)
        ):
            return False
    everyday_words = _typo_vocabularies(programme, language).everyday
    return process.extractOne(word, everyday_words, scorer=OSA.distance, score_cutoff=1) is not None


def _a_word_of_another_language(programme: str, language: str, word: str) -> bool:
    for other in _others(language):
        lexicon = load(programme, other)
        if word in lexicon.known or word in lexicon.clinical or is_everyday(lexicon, word, typos=False):
            return True
    return False


def a_real_word(programme: str, language: str, word: str) -> bool:
    """A word the lexicon names as chit-chat: never a typo of a symptom word ("panas" is no
    "panal"). Only this language's: "devil" in Spanish is still "débil", "chiles" in English still
    "chills". Rare words are left out: "feal" is still "feel"."""
    return word in load(programme, language).chit_chat_named


class _Vocabularies(NamedTuple):
    symptomatic: Callable[[str], bool]  # a form of a symptom word (lexicon._symptomatic)
    words: tuple[str, ...]  # every lexicon word and clinical word
    beginnings: tuple[str, ...]  # prefixes, and clinical words and stems, of four letters or more
    everyday: tuple[str, ...]  # the everyday words a typo may be of


@cache
def _typo_vocabularies(programme: str, language: str) -> _Vocabularies:
    lexicon = load(programme, language)
    symptom = lexicon.clinical | lexicon.words
    found = set(lexicon.prefixes) | {lexicon.stem(w) for w in lexicon.clinical} | set(lexicon.clinical)
    return _Vocabularies(
        symptomatic=_symptomatic(
            language, set(lexicon.clinical), tuple(lexicon.prefixes), set(lexicon.words)
        ),
        words=tuple(sorted(symptom)),
        beginnings=tuple(sorted(b for b in found if len(b) >= 4)),
        everyday=tuple(
            sorted(w for w in lexicon.chit_chat | lexicon.spoken if len(w) >= 5 and w not in symptom)
        ),
    )


def _others(language: str) -> tuple[str, ...]:
    return (OTHER_LANGUAGE[language],) if language in OTHER_LANGUAGE else ()


@lru_cache(maxsize=65536)
def _everyday_form(programme: str, language: str, word: str) -> bool:
    lexicon = load(programme, language)
    if word.startswith(tuple(lexicon.prefixes)) or word in lexicon.clinical:
        return False  # "paralyzed" is no other form of "paralyze": it is on the clinical list itself
    stems = _everyday_stems(lexicon.programme, lexicon.language)
    for form in (word, *(word.replace(a, b) for a, b in lexicon.variants if a in word)):
        stem = lexicon.stem(form)
        if (form in lexicon.chit_chat or stem in stems) and stem not in lexicon.clinical:
            return True
    return False


@cache
def _everyday_stems(programme: str, language: str) -> frozenset[str]:
    lexicon = load(programme, language)
    return frozenset(lexicon.stem(w) for w in lexicon.chit_chat)
