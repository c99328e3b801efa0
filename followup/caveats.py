"""What makes a match no finding, though its words are there: another feeling after an exception
("no numbness except my bottom is sore"), a walking aid long used ("I've used a cane for years"),
a form's "no" right after it ("chest pain? nope"). Pure functions of a reply's tokens, used by
followup/reading.py to drop or deny matches before the rest of the reading."""

from __future__ import annotations

from .matching import Doc, Match, has_phrase

_DENIALS = frozenset(
    {"no", "none", "nothing", "not", "never", "sin", "nada", "ni", "ningun", "ninguno", "ninguna", "nunca"}
)
_SUBJECT_PRONOUNS = frozenset(
    {"i", "im", "ive", "id", "ill", "it", "its", "we", "he", "she", "they", "you", "yo"}
)


def another_feeling(doc: Doc, match: Match) -> bool:
    """ "no numbness except my bottom is sore", "less feeling of pain in my bum": what the exception
    or the lessening names is another feeling (soreness, pain), not numbness there. Such a numbness
    is dropped when another feeling follows the exception word to the end of the site's clause, or
    sits between the lessening word and the site; "no numbness except in my groin" and "less feeling
    in my fingers, they hurt" keep it."""
    if match.concept not in ("numbness", "saddle_numbness", "both_legs"):
        return False
    words, lexicon, mine = doc.words, doc.lexicon, set(match.positions)
    site = max(match.positions)
    excepts = [p for p in match.positions if words[p] in lexicon.excepting]
    if match.concept == "both_legs" and not excepts:
        return False  # ("legs much heavier" is no lessening of another feeling)
    lessens = [p for p in match.positions if words[p] in lexicon.lessening]
    if excepts:
        if not any(p > min(excepts) and words[p] not in lexicon.excepting for p in match.positions):
            return True  # "no numbness in my groin, except some back pain": the site comes first
        if any(p > min(excepts) and words[p] in _DENIALS for p in match.positions):
            return True  # "had numbness in my groin before surgery but none since": the denial is last
        following = next((words[i] for i in range(min(excepts) + 1, len(words)) if i not in mine), "")
        if following in _SUBJECT_PRONOUNS:
            return True  # "no tingling, but I did my hand exercises": a new sentence, no exception
        if any(has_phrase(words[min(excepts) + 1 :], phrase) for phrase in lexicon.explained_away):
            return True  # "except when I sit cross legged too long, normal for me": nothing new
        stop = next((i for i in range(site + 1, len(words)) if doc.clause[i] != doc.clause[site]), len(words))
        span = range(min(excepts) + 1, stop)
    elif lessens:
        first = min(lessens)
        span = range(first + 1, site) if first < site else range(first + 1, min(first + 4, len(words)))
    else:
        return False
    return any(i not in mine and words[i] in lexicon.other_feelings for i in span)


_BECAUSE = frozenset({"because", "cause", "cuz", "coz", "bc", "porque", "pq", "xq", "por"})


def kept_in_by_outside(doc: Doc, match: Match) -> bool:
    """ "no pude caminar al parque porque llovió", "couldnt walk far because of the ice": a walk
    that the weather or the day prevented is no new difficulty walking."""
    if match.concept != "walking":
        return False
    words, clause = doc.words, match.clause
    for i in range(match.end, len(words)):
        if doc.clause[i] != clause:
            return False
        if words[i] in _BECAUSE:
            return any(w in doc.lexicon.outside_reasons for w in words[i + 1 : i + 5])
    return False


def long_standing_aid(doc: Doc, match: Match) -> bool:
    """ "I've used a cane for years", "same as always, walking with my walker": a walking aid the
    patient has long used, with nothing said to be new, is no new difficulty walking."""
    words, lexicon = doc.words, doc.lexicon
    if match.concept != "walking" or not any(
        w in lexicon.walking_aids and doc.clause[i] == match.clause for i, w in enumerate(words)
    ):
        return False  # (an aid in its clause: "walk with help of my cane as usual")
    text = " " + " ".join(words) + " "
    said = [phrase for phrase in lexicon.long_standing if f" {phrase} " in text]
    for phrase in said:
        text = text.replace(f" {phrase} ", " ")  # ("nothing new" says nothing is)
    return bool(said) and not any(f" {w} " in text for w in lexicon.news)  # "...but now a walker"


# A finding answered "no" right after it, as on a form: "chest pain? nope", "fever - none", "fiebre
# no". Only as the last word of its clause ("fiebre no se me quita" is a fever that does not go), and
# a bare "no" only after "?", ":" or "-" or in Spanish word order: "chest pain, no" may answer the
# numbness question.
AFTER_DENIALS = frozenset(
    {"nope", "nop", "none", "nah", "negative", "nada", "ninguno", "ninguna", "no", "tampoco", "cero"}
)
# Two words that deny as one: "numbness? not anymore", "hormigueo, ya no".
AFTER_DENIAL_PAIRS = frozenset(
    {("not", "anymore"), ("no", "more"), ("ya", "no"), ("not", "really"), ("no", "longer"), ("not", "today")}
    | {("no", "duele"), ("doesnt", "hurt"), ("dont", "hurt"), ("not", "hurting"), ("isnt", "hurting")}
    | {("no", "me", "duele"), ("no", "me", "molesta"), ("hoy", "no")}
)
# What may follow a denial in its clause: "no me duele para nada", "caídas ninguna gracias a dios".
_AFTER_DENIAL_TAILS = (
    ("gracias", "a", "dios"),
    ("para", "nada"),
    ("en", "absoluto"),
    ("at", "all"),
    ("thank", "god"),
    ("thank", "you"),
    ("gracias",),
    ("thanks",),
    ("nada",),
)


def _past_tail(words: list[str], i: int) -> int:
    """The last word of a courtesy or an emphasis after a denial, from its last word i ("no para"
    is "does not stop": "para" alone is no tail)."""
    for tail in _AFTER_DENIAL_TAILS:
        if tuple(words[i + 1 : i + 1 + len(tail)]) == tail:
            return i + len(tail)
    return i


# "calentura no tengo", "fever I don't have": the verb that a Spanish "no" takes along.
_HAVE = frozenset({"tengo", "tuve", "siento", "senti", "he", "hay", "tiene"})
# "bladder problems? no": the noun a form puts after the finding.
_TROUBLE = frozenset({"problems", "problem", "issues", "issue", "trouble", "problemas", "problema"})
# "bladder ok? yes": the question says the part is fine, and the yes agrees.
_FINE = frozenset({"ok", "okay", "fine", "normal", "good", "bien", "normales", "bn"})
_TAKEN_BACK = frozenset(
    {
        "wait",
        "actually",
        "well",
        "but",
        "kind",
        "sort",
        "bit",
        "little",
        "there",
        "still",
        "though",
        "both",
        "other",
    }
    | {
        "pero",
        "bueno",
        "aunque",
        "poco",
        "poquito",
        "todavia",
        "sigue",
        "creo",
        "ambos",
        "ambas",
        "otro",
        "otra",
    }
)
_FORM_MARKS = frozenset({"?", ":", "-", "=", "?:"})


def denied_after(doc: Doc, match: Match) -> bool:
    words, i = doc.words, match.end
    if any(words[p] in _DENIALS for p in match.positions):
        return False  # "no siento nada": the finding is a negative, and "nada" says it twice
    while i < len(words) and (
        words[i] in doc.lexicon.pain_words
        or words[i] in _TROUBLE
        or (words[i] in doc.lexicon.functions and words[i] not in doc.lexicon.fillers)
    ):
        i += 1  # "chest" read, then "pain"; "numb", then "fingers" (not "de la" of "de la cintura")
    fine = i < len(words) and words[i] in _FINE
    i += fine
    marked = comma = False
    while i < len(words) and (words[i] in _FORM_MARKS or words[i] == ","):
        marked, comma, i = marked or words[i] != ",", comma or words[i] == ",", i + 1
    for size in (3, 2):
        if not fine and tuple(words[i : i + size]) in AFTER_DENIAL_PAIRS:
            i += size - 1  # read as its last word: "anymore", "no", "duele"
            i = _past_tail(words, i)
            return not any(w in _TAKEN_BACK for w in words[i + 1 :]) and (
                i + 1 >= len(words) or not words[i + 1][0].isalpha()
            )
    if i >= len(words) or words[i] not in (doc.lexicon.yes if fine else AFTER_DENIALS):
        return False
    if fine and not marked:
        return False
    if words[i] == "no" and not marked and (comma or doc.lexicon.language != "es"):
        return False  # "3, chest pain, no" may answer the numbness question
    if words[i] == "no" and i + 1 < len(words) and words[i + 1] in _HAVE and doc.lexicon.language == "es":
        i += 1  # "calentura no tengo"
    if any(w in _TAKEN_BACK or w in doc.lexicon.yes for w in words[i + 1 :]):
        return False  # "chest pain - no, wait, yes a little"
    i = _past_tail(words, i)
    # the end of its clause, or the score that follows: "chest pain? nope 3 N"
    return i + 1 >= len(words) or not words[i + 1][0].isalpha()
