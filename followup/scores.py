"""Pure: the numbers in a reply (pain score, temperature), the Y/N that answers the numbness
question, and how many times the exercises were done. Read on the same tokens as the concepts:
nothing rewrites the text they are matched on; number words go through text2num.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA
from text_to_num import text2num

from .lexicon import load
from .matching import Doc, Match

_NUMBER_WORDS = {
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"],
    "es": ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez"],
}


@lru_cache(maxsize=65536)
def number_value(token: str, language: str) -> float | None:
    if token.endswith("ish") and len(token) > 3:
        token = token[:-3]  # "fiveish"
    if token[0].isdigit():
        try:
            return float(token.replace(",", "."))
        except ValueError:
            return None  # "30s"
    if token.endswith("s") and language == "en" and token[:-1] in _NUMBER_WORDS["en"]:
        return None  # "the shoulder ones", "tens of times": text2num reads plurals as numbers
    if token in ("unos", "unas"):
        return None  # "unas pupusas", "unos 4": "some", "about"
    try:
        return float(text2num(token, language))
    except ValueError:
        pass
    return None


@lru_cache(maxsize=65536)
def _misspelt_number(token: str, programme: str, language: str) -> float | None:
    """ "sevn", "eigth": a number word of four letters or more, one typo away, that is no other word;
    or a short one with its last letter doubled ("tenn", "sixx")."""
    lexicon = load(programme, language)
    if len(token) < 4 or token in lexicon.known or token in lexicon.everyday:
        return None
    if token[-1] == token[-2] and token[:-1] in _NUMBER_WORDS.get(language, []):
        return float(_NUMBER_WORDS[language].index(token[:-1]))  # "tenn", "sixx": a key held down
    words = [w for w in _NUMBER_WORDS.get(language, []) if len(w) >= 4]
    found = process.extractOne(token, words, scorer=OSA.distance, score_cutoff=1)
    return float(_NUMBER_WORDS[language].index(found[0])) if found else None


def numbers(doc: Doc) -> tuple[int | None, float | None, set[int], bool]:
    """The pain score, a temperature, the tokens they account for, and whether the score was said to
    be one ("pain 8", "8/10", "8 N"), not only a number among other words ("did 8 not 10")."""
    lex, words = doc.lexicon, doc.words
    candidates: list[tuple[int, int, bool]] = []  # (position, value, labelled as pain)
    temperature, used = None, set()
    strong, said = None, False
    for i, w in enumerate(words):
        value = number_value(w, lex.language) if (w[0].isdigit() or w.isalpha()) else None
        after = words[i + 1] if i + 1 < len(words) else ""
        if (
            value is None
            and w.isalpha()
            and (len(words) <= 2 or after in lex.yes | lex.no or (i > 0 and words[i - 1] in lex.pain_words))
        ):
            value = _misspelt_number(w, lex.programme, lex.language)  # "sevn N", "pain eigth"
        if value is None:
            continue
        if (
            w.isalpha()
            and w in ("one", "un", "uno", "una", "a")
            and ((after.isalpha() and after not in lex.yes | lex.no) or (after and after[0].isdigit()))
        ):
            continue  # "one leg", "una pierna", "un 10": a word, not a score
        if w in ("one", "uno", "una") and i > 0 and words[i - 1] in lex.one_pronoun:
            used.add(i)
            continue  # "just the right one", "that one", "la otra una": a thing, not a score
        if w.isalpha() and after == "of" and not _out_of_ten(words, i, lex.language):
            used.add(i)
            continue  # "two of us", "one of those days": a count of something else
        if (
            w in ("zero", "cero")
            and len(after) > 3
            and after in lex.words
            and after not in lex.pain_words | lex.fillers | lex.yes | lex.no
        ):
            continue  # "zero control", "cero fuerza": none of something else, not a score of 0
        counts = after in lex.units and after not in lex.temperature_words and after not in ("f", "c")
        if (35 <= value <= 45 or 95 <= value <= 110) and not counts:  # "38 degrees", not "40 min"
            temperature = value
            used.add(i)
            continue
        if (
            i > 1
            and words[i - 1] == "'"
            and w[0].isdigit()
            and words[i - 2] in ("in", "since", "back", "of", "from")
        ):
            used.update((i - 1, i))
            continue  # "in '05": a year
        if i > 0 and words[i - 1] == "#":
            used.update((i - 1, i))
            continue  # "had to go #2": a name, not a score
        if after == "s" and _a_duration(words, i):
            used.update((i, i + 1))
            continue  # "held for 6 s": seconds
        scored = any(b in lex.pain_words for b in words[max(0, i - 3) : i])
        counted = (
            0
            if scored
            else _names_an_exercise(words, i + 1, lex.exercise_units, lex.exercise_words, lex.yes | lex.no)
        )
        after_name = words[i + 1 + counted : i + 5 + counted] if counted else []
        if any(w in lex.pain_words - lex.fillers for w in after_name):
            counted = 0  # "9 head lifts hurt N": the score of the exercise, not a count of it
        if counted:  # "10 head lifts", "10 prone head lifts": a count of an exercise
            used.update(range(i, i + 1 + counted))
            continue
        if after in lex.units or (after == "x" and i + 2 >= len(words)) or (i > 0 and words[i - 1] == "x"):
            used.update((i, i + 1) if after in lex.units else (i,))
            continue
        if i >= 2 and words[i - 1] == "of" and words[i - 2] in lex.units:
            used.add(i)
            continue  # "3 sets of 10"
        if after == ":" or _a_time_or_name(words, i, lex):
            used.add(i)
            continue
        if value > 10 or value < 0:
            continue
        out_of = _out_of_ten(words, i, lex.language)
        if out_of:
            strong = (i, int(value + 0.5))
            used.update(range(i, i + out_of))
            continue
        if (
            i >= 2
            and _out_of_ten(words, i - 2, lex.language)
            or i >= 3
            and _out_of_ten(words, i - 3, lex.language)
        ):
            continue  # the "10" of "6/10"
        before = words[max(0, i - 3) : i]
        labelled = any(b in lex.pain_words for b in before)
        # Said as a score ("pain is 7", "dolor de 7", "8 N"), or at least not among the words of an
        # exercise ("did 8 head lifts not 10", "I can hold the full 10", "hice 8 de la cabeza").
        said = (
            said
            or after in lex.yes | lex.no
            or any(b in lex.pain_words and len(b) > 2 for b in before)
            or not any(_of_exercise(w, lex) for w in words[max(0, i - 3) : i + 4])
        )
        candidates.append((i, int(value + 0.5), labelled))
    used.update(i for i, _, _ in candidates)
    if strong:
        return strong[1], temperature, used, True
    if not candidates:
        return None, temperature, used, False
    said = said or len(words) == 1
    for i, value, _ in candidates:
        if any(w in lex.now_words for w in words[max(0, i - 3) : i + 2]):
            return value, temperature, used, said  # "7 yesterday, 3 now"
    if len(candidates) > 1 and any(
        w in lex.transition_words for w in words[candidates[0][0] : candidates[-1][0]]
    ):
        return candidates[-1][1], temperature, used, said  # "went from 7 to 3": the current one
    if len(candidates) == 2 and candidates[1][0] - candidates[0][0] == 2:
        if words[candidates[0][0] + 1] in ("-", "or", "o", "u"):
            return max(candidates[0][1], candidates[1][1]), temperature, used, said  # "6-7": the higher
    labelled = [c for c in candidates if c[2]]
    if labelled:
        return labelled[0][1], temperature, used, said
    return max(v for _, v, _ in candidates), temperature, used, said  # "6 or 7": in doubt, the higher


def _a_time_or_name(words: list[str], i: int, lex) -> bool:
    """The number at i is a time, a name or a count of what was done, not a score: "by 8", "a las
    8", "route 9", "la vecina del 4", "see you thursday at 10" (not "since tuesday at 8 out of 10")."""
    if i == 0:
        return False
    before = words[i - 1]
    if before in lex.time_words or before in lex.name_words or _DONE_COUNT.search(before):
        return True
    if (
        before in ("in", "en")
        and (i + 1 == len(words) or not words[i + 1][0].isalnum())
        and any(b in lex.arrival_words for b in words[max(0, i - 4) : i - 1])
        and not any(b in lex.pain_words for b in words[max(0, i - 4) : i - 1])
    ):
        return True  # "be there in 10", "llego en 15": minutes ("back in 7" may be "back is 7")
    return (
        before in ("at", "@", "a")
        and any(w in lex.days for w in words[max(0, i - 3) : i - 1])
        and not _out_of_ten(words, i, lex.language)
        and not any(
            b in lex.pain_words and b not in lex.fillers and len(b) > 2 for b in words[max(0, i - 5) : i - 1]
        )
    )


def _of_exercise(word: str, lex) -> bool:
    return word in lex.exercise_units or (len(word) > 3 and word in lex.exercise_words) or word in _HOLDS


# The verbs of holding a position: "held for 6 s" is seconds, "hold the full 10" an exercise's words.
_HELD = frozenset({"hold", "held", "holding", "aguante", "sostuve"})
_HOLDS = _HELD | {"aguanto", "sostener", "sostengo"}
_DURATION_BEFORE = _HELD | {"for", "por", "x"}


def _names_an_exercise(
    words: list[str], start: int, exercises: frozenset[str], modifiers: frozenset[str], stops: frozenset[str]
) -> int:
    """How many words from `start` up to an exercise's name, with only words of its name between
    ("head lifts", "prone head lifts", "levantadas de cabeza"), within three words, or 0. A
    preposition or anything else between makes the number a score ("9 with retractions")."""
    for k in range(start, min(start + 3, len(words))):
        if words[k] in exercises:
            return k - start + 1
        if words[k] not in modifiers or words[k] in stops:
            return 0  # "9 with retractions", "7 and the lifts hurt": the score, then the exercise
    return 0


def _out_of_ten(words: list[str], i: int, language: str) -> int:
    """How many tokens "N/10", "N out of ten", "N de 10" take from i (0 if it is none of them)."""
    for between in (["/"], ["out", "of"], ["of"], ["de"], ["over"], ["outta"], ["sobre"]):
        j = i + 1 + len(between)
        if words[i + 1 : j] == between and j < len(words) and number_value(words[j], language) == 10:
            return j - i + 1
    return 0


def yes_no(doc: Doc, number_positions: set[int], numb_positions: set[int]) -> tuple[bool | None, set[int]]:
    """A Y/N that answers the numbness question: after a score ("6 N"), after the word ("numb: no"),
    or the whole reply ("yes", "N")."""
    lex, words = doc.lexicon, doc.words
    content = [i for i, w in enumerate(words) if w[0].isalnum()]
    for i in content:
        w = words[i]
        if len(w) > 1 and len(set(w)) == 1:
            w = w[0]  # "Yy", "nnn": a thumb on the key
        if w not in lex.yes and w not in lex.no:
            continue
        prev = [j for j in content if j < i]
        nxt = [j for j in content if j > i]
        follows_number = bool(prev) and prev[-1] in number_positions and prev[-1] >= i - 2
        # "3 y no, mañana...", "four and yes." : a score, "and", then the answer, before a stop
        # "dice que 2 y que no", "4 and Y in his right hand" (one letter in English is the answer
        # whatever follows it).
        said_that = len(prev) >= 3 and words[prev[-1]] == "que" and words[prev[-2]] in ("y", "e")
        if said_that:
            prev = prev[:-1]
        after_and = (
            len(prev) >= 2
            and words[prev[-1]] in ("y", "and", "e", "n")
            and prev[-2] in number_positions
            and (
                not nxt
                or words[i + 1] in (",", ".", ";", "!")
                or (
                    lex.language != "es"
                    and len(words[i]) == 1
                    and not said_that
                    and not any(len(words[j]) == 1 and words[j] in lex.yes | lex.no for j in nxt)
                )  # not "4 and N in my arms, Y in my legs": the answer is in doubt
            )
        )
        follows_numb = bool(prev) and prev[-1] in numb_positions and prev[-1] >= i - 2
        alone = all(j in number_positions or words[j] in lex.yes | lex.no for j in content)
        ends_clause = not nxt or doc.clause[nxt[0]] != doc.clause[i]
        opens_reply = (
            not prev
            and i + 1 < len(words)
            and (not words[i + 1][0].isalnum() or words[i + 1] in lex.yes_followers)
        )
        # One letter, in English, that opens the reply or stands before a comma answers the question:
        # "Y mostly my thumb", "tell you Y, it's her arm" (Spanish "y" is "and").
        opens_reply = opens_reply or (
            lex.language != "es"
            and len(words[i]) == 1
            and (
                (not prev and len(content) >= 3)  # not "Y ok" (to a reminder: done)
                or (i + 1 < len(words) and words[i + 1] in (",", ".", ";"))
            )
        )
        if lex.language == "es" and w == "y" and not ends_clause and (prev or not alone):
            continue  # "5 y todavia hormigueo": "and"
        if w == "s" and prev and prev[-1] in number_positions and _a_duration(words, prev[-1]):
            continue  # "held for 6 s", "5x5 s": seconds
        # The last word of a reply that gives a score, after "and" or a comma or as one letter:
        # "four and yes", "about 4 today N", "Pain is a 5 and N".
        # A lone letter after a comma at the end answers too: "fingers are weak and clumsy, Y".
        last_answer = not nxt and (
            (
                bool(number_positions)
                and (
                    len(w) == 1
                    or (bool(prev) and words[prev[-1]] in ("and", "y", "e"))
                    or words[i - 1] == ","
                )
            )
            or (len(w) == 1 and i > 0 and words[i - 1] == ",")
        )
        if (
            last_answer
            or (follows_number and (ends_clause or w not in ("no",)))
            or after_and
            or (follows_numb and ends_clause)
            or alone
            or opens_reply
        ):
            return w in lex.yes, {i}
    return None, set()


def _a_duration(words: list[str], i: int) -> bool:
    """The number at i is a length of time or a count: "for 6", "5x5", "x 5"."""
    before = words[i - 1] if i > 0 else ""
    return before in _DURATION_BEFORE or (before.isdigit() and i > 1 and words[i - 2] == "x")


_COUNT_WORDS = {"twice": 2, "thrice": 3}


_DONE_COUNT = re.compile(
    r"^(?:done|did|finished|listo|lista|hecho|hechos|hecha|termine)$"
)  # "done 2": a count


def done_count(doc: Doc, present: dict[str, list[Match]], negated: dict[str, list[Match]]) -> int | None:
    if present.get("not_done") or (negated.get("done") and not present.get("done")):
        return 0
    if not present.get("done"):
        return None
    words = doc.words
    for i, w in enumerate(words):
        if w in _COUNT_WORDS:
            return _COUNT_WORDS[w]
        if w == "x" and i + 1 < len(words) and words[i + 1].isdigit():
            return min(10, int(words[i + 1]))
        if w.isdigit() and i + 1 < len(words) and words[i + 1] in ("x", "times", "veces", "time"):
            return min(10, int(w))
        if w in ("dos", "two") and i + 1 < len(words) and words[i + 1] in ("veces", "times"):
            return 2
        if (
            _DONE_COUNT.match(w)
            and i + 1 < len(words)
            and words[i + 1].isdigit()
            and (i + 2 >= len(words) or words[i + 2] not in doc.lexicon.units)
        ):
            return min(10, int(words[i + 1]))
    return 1
