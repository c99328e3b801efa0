"""Pure: whose, and when, a finding or a temperature is, beyond what ConText's modifiers say: the
writer's own answer beside someone else's news, and a temperature that is the weather's, the past's
or a relative's (followup/reading.py uses this)."""

from __future__ import annotations

from .context import relayed
from .matching import Doc, Match
from .scores import number_value

_SELF = frozenset({"me", "yo", "myself", "im", "i", "mine", "mio"})
# The writer speaking of themselves in a clause.
SELF_WORDS = _SELF | {"ive", "id", "ill", "estoy", "tengo", "siento"}
_MY = frozenset({"my", "mi", "mis"})


def speaks_of_self(words: list[str], i: int, kin: frozenset[str]) -> bool:
    """Word i is the writer speaking of themselves: "I", "me", "tengo", or "my" before anything but
    a relative ("my back", not "my son")."""
    w = words[i]
    return w in SELF_WORDS or w in _MY and not (i + 1 < len(words) and words[i + 1] in kin)


_SELF_FINE = (
    ("yo", "bien"),
    ("yo", "estoy", "bien"),
    ("im", "fine"),
    ("im", "ok"),
    ("i", "am", "fine"),
    ("me", "fine"),
)


def their_news(doc: Doc, their_positions: set[int]) -> bool:
    """Someone else's finding is news of a person who never writes for the patient: "2 N. my son
    broke his arm", "mi perrita tiene las patitas débiles". Only when the reply names no parent or
    spouse, who might be the patient a relative writes for ("3 N. my mom fell today")."""
    lexicon, words = doc.lexicon, doc.words
    if any(w in lexicon.kin and w not in lexicon.others_news for w in words):
        return False
    # each of their findings comes after one of those people is named
    for clause in {doc.clause[p] for p in their_positions}:
        first = min(p for p in their_positions if doc.clause[p] == clause)
        if not any(words[j] in lexicon.others_news for j in range(first)):
            return False
    return True


def answered_for_self(words: list[str], number_positions: set[int]) -> bool:
    """The writer gives their own answer, set against someone else's news: "me 2 N", "yo 2 N",
    "yo bien, 2 N", "I'm fine. 2 N". A relative writing for the patient says "she says 6"."""
    if any(words[j] in _SELF for p in number_positions for j in range(max(0, p - 2), p)):
        return True
    return any(tuple(words[i : i + len(f)]) == f for f in _SELF_FINE for i in range(len(words)))


def temperature_not_theirs(
    doc: Doc,
    temperature: float,
    matches: list[Match],
    statuses: list[str],
    past: set[int],
    scored: bool,
    names: frozenset[str] = frozenset(),
) -> bool:
    """A temperature in the patient's past or the weather's ("dengue en el 2010 con fiebre de 40",
    "104 in the shade"), or someone else's when the patient gave their own score ("3 N my daughter
    has a fever of 102"; without one, "mi esposo tiene fiebre de 101" may be a wife writing for him)."""
    language = doc.lexicon.language
    at = [i for i, w in enumerate(doc.words) if w[0].isdigit() and number_value(w, language) == temperature]
    clauses = {doc.clause[i] for i in at}
    past_or_hypothetical = {m.clause for m, s in zip(matches, statuses) if s == "other"}
    theirs = {m.clause for m, s in zip(matches, statuses) if s == "someone else"} if scored else set()
    if scored and not relayed(doc):
        # "husband is at 102", "la nena tiene 38.7": a relative's, named before it in its clause
        # (not "Dad has a temperature of 38.9 and says pain 5", his child writing for him)
        theirs |= {doc.clause[i] for i in at if _a_relative_before(doc, i)}
    # The weather's words, or a place, in a clause that names no fever and no one who has it: "42
    # grados en Córdoba hoy", "104 in Palm Springs"; not "I have 102 in Houston", "con este calor
    # amanecí con 38.4".
    someone = {m.clause for m in matches if m.concept == "fever"} | {
        doc.clause[i] for i, w in enumerate(doc.words) if w in _SOMEONE_HAS
    }
    weather = {
        doc.clause[i]
        for i, w in enumerate(doc.words)
        if (w in doc.lexicon.weather_words or w in names and i > 0 and doc.words[i - 1] in _IN_A_PLACE)
        and doc.clause[i] not in someone
    }
    return bool(at) and (all(i in past for i in at) or clauses <= past_or_hypothetical | theirs | weather)


def _a_relative_before(doc: Doc, i: int) -> bool:
    """ "my husband is at 102", "la nena tiene 38.7": a relative named with "my", "the", "la" before
    the number in its clause, and the writer not in it too ("... and so am I", "yo también"). A bare
    "husband is at 102" may be a wife writing for her husband, the patient: his."""
    words, clause = doc.words, doc.clause
    if any(w in SELF_WORDS or w in _TOO for j, w in enumerate(words) if clause[j] == clause[i]):
        return False
    after = [w for j, w in enumerate(words) if clause[j] == clause[i] + 1]
    if any(w in _TOO for w in after) or "so" in after and "i" in after:  # "..., so am I", ", me too"
        return False
    for j in range(i - 1, 0, -1):
        if clause[j] != clause[i]:
            return False
        if words[j] in doc.lexicon.kin or words[j] in doc.lexicon.others_news:
            return words[j - 1] in _NAMING
    return False


_TOO = frozenset({"too", "also", "tambien", "igual"})
_NAMING = frozenset({"my", "our", "the", "mi", "mis", "la", "el", "los", "las", "nuestro", "nuestra"})


_IN_A_PLACE = frozenset({"in", "en", "at"})
_SOMEONE_HAS = frozenset(
    {"i", "im", "me", "my", "have", "has", "got", "running", "woke"}
    | {"yo", "tengo", "tiene", "estoy", "esta", "con", "mi", "amaneci", "ando", "andaba", "traigo", "sigo"}
)


def a_measure(doc: Doc, matches: list[Match]) -> bool:
    """ "34 degrees": a number with the word is a measure; not a body temperature, it is the weather."""
    return all(m.start > 0 and doc.words[m.start - 1][0].isdigit() for m in matches)
