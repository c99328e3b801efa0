"""Pure: what a reply's own words deny beyond ConText's triggers: a negation inside a finding's
words ("la mano ya no se me duerme"), the words a denial takes along ("no chest pain or
tightness"), and a finding an acknowledgement of normal function names ("bladder and bowels
normal"). followup/reading.py uses these.
"""

from __future__ import annotations

from functools import cache

from .everyday import is_everyday
from .lexicon import load
from .matching import INHERENTLY_NEGATIVE, Doc, Match

_JOINS = {"or", "nor", "and", "o", "ni", "y", "u", "e", ","}

# A negation inside a finding's own words, just before its next word: "la mano ya no se me duerme",
# "my arms dont feel weak". ConText scopes a negation forward, so it misses one that follows the
# finding's first word.
_INSIDE_NEGATIONS = frozenset(
    {"no", "not", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "never", "nunca", "tampoco"}
)


# ... unless it says the patient cannot: "ya no me pude dormir", "pain doesnt let me sleep" are the
# finding itself.
_ABILITY = frozenset(
    {"can", "could", "able", "let", "lets", "letting", "allow", "allows"}
    | {"pude", "puedo", "puede", "podia", "pudo", "podido", "deja", "dejo", "dejaba", "dejan"}
)


# "camino sin bastón", "walking without the stick": no aid; "del baño todo normal, ni accidentes".
# After a negative it is the aid needed or emphasis ("cant walk without the stick", "no puedo
# caminar sin bastón", "no puedo ni caminar").
_WITHOUT = frozenset({"sin", "without", "ni"})


def negated_inside(doc: Doc, match: Match) -> bool:
    positions, words = set(match.positions), doc.words
    for p in range(match.start + 1, match.end - 1):
        if p in positions or (words[p] not in _INSIDE_NEGATIONS and words[p] not in _WITHOUT):
            continue
        if words[p] in _WITHOUT and any(
            words[q] in INHERENTLY_NEGATIVE for q in range(p) if doc.clause[q] == doc.clause[p]
        ):
            continue
        reach = 6 if words[p] in _WITHOUT else 4  # "sin agarrarme de las paredes"
        nxt = next((q for q in range(p + 1, p + reach) if q in positions), None)
        if nxt is not None and not _ABILITY.intersection(words[p + 1 : nxt]):
            return True
    return False


def denied_with(doc: Doc, match: Match) -> set[int]:
    """The words a denial takes along: "no chest tightness", "no chest pain or tightness", "nada de
    pecho apretado". Up to two words right after a negated finding, or after an "or" that joins
    them; a word of its own finding ("no chest pain, legs weird") sits in another clause."""
    out: set[int] = set()
    i, taken = match.end, 0
    while i < len(doc.words) and taken < 2 and doc.clause[i] == match.clause:
        word = doc.words[i]
        if word in _JOINS:
            i += 1
            continue
        if not word.isalpha():
            break
        out.add(i)
        taken += 1
        i += 1
    return out


def said_normal(
    doc: Doc,
    present: dict[str, list[Match]],
    negated: dict[str, list[Match]],
    covered: set[int],
    findings: tuple[str, ...],
) -> None:
    """ "bladder and bowels normal", "chest is fine", "controlo bien la orina": a finding whose every
    word an acknowledgement of normal function names is denied, not reported, when nothing else in
    the reply is left unread ("chest feels ok, just tight" keeps its flag: when in doubt, higher)."""
    acks = present.get("ack", [])
    lexicon = doc.lexicon
    if not acks or "?" in doc.words or doc.words[0] in lexicon.question_starts:
        return  # "es normal que me duela el pecho?": a question about a finding, not a denial
    pains = _pain_stems(lexicon.programme, lexicon.language)
    for name in findings:
        kept: list[Match] = []
        for match in present.get(name, []):
            normal = [
                a
                for a in acks
                if a.clause == match.clause and set(match.positions) <= {*a.positions, *a.related}
            ]
            read = {p for a in normal for p in (*a.positions, *a.related)} | set(match.positions)
            # A pain word in the clause reports the finding ("me duele el pecho, lo demás normal").
            hurts = any(
                doc.clause[i] == match.clause and lexicon.stem(w) in pains for i, w in enumerate(doc.words)
            )
            others = hurts or any(
                i not in read
                and i not in covered
                and w.isalpha()
                and w not in lexicon.fillers
                and (w in lexicon.clinical or not is_everyday(lexicon, w))
                for i, w in enumerate(doc.words)
            )
            (negated.setdefault(name, []) if normal and not others else kept).append(match)
        if name in present:
            present[name] = kept
            if not kept:
                del present[name]


@cache
def _pain_stems(programme: str, language: str) -> frozenset[str]:
    lexicon = load(programme, language)
    return frozenset(lexicon.stem(w) for w in lexicon.pain_words - lexicon.fillers)
