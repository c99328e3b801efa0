"""Pure: a reply's tokens, and the lexicon's concepts found in them (followup/reading.py uses this).

The text is folded (lower case, no accents, apostrophes dropped: "don't" -> "dont") and split into
tokens and clauses (full stops, commas outside a list, "but"). Each token offers keys: its stem, the
prefixes it starts with, and the lexicon words it is one typo away from (rapidfuzz, OSA distance),
so "tinglig" and "fngers" still match. A concept's pattern matches per clause, its groups in any
order ("my groin is numb", "numb in my groin").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from .everyday import a_real_word
from .lexicon import Lexicon, load

# "30s", "1980s": a decade is one token (no score, no "s" for yes); "4s" stays "4 S" (a score, a yes).
_TOKEN_RE = re.compile(r"(?:19|20)?[2-9]0s\b|\d+(?:[.,]\d+)?|[^\W\d_]+|[^\w\s]")


_QUOTES = frozenset({'"', "\u201c", "\u201d", "\u00ab", "\u00bb"})
_BOUNDARIES = {".", "!", "?", ";", "\n", "-", "\u2013", "\u2014"}  # a dash between words ends a clause


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    text = re.sub(r"(?<=[^\W\d])-(?=[^\W\d])", " ", text)  # "rear-ended" -> "rear ended"
    text = re.sub(r"\bw/o\b", "without", text)  # "w/o", whose "o" is no zero
    text = re.sub(r"\bwithout being able to\b", "unable to", text)
    text = re.sub(r"\bs\s?\.?\s?o\s?\.?\s?s\b", "sos", text)  # "S O S", "s.o.s"
    return re.sub(r"(?<=\w)'(?=\w)", "", text)  # "don't" -> "dont", "groin's" -> "groins"


def tokens(text: str, lexicon: Lexicon) -> list[str]:
    # "sí" (yes) keeps its accent's meaning: folded it would read as "si" (if).
    folded = fold(re.sub(r"(?i)\bsí\b", "sii", unicodedata.normalize("NFC", text or "")))
    for symbol, word in lexicon.emoji.items():
        folded = folded.replace(symbol, f" {word} ")
    if lexicon.emoji_ack and not folded.isascii():
        folded = "".join(_emoji_word(c, lexicon) for c in folded)
    # Double quotes are no words: 'numbness in the "seat" area' is the seat area.
    words = [
        t for t in _TOKEN_RE.findall(folded.replace("\n", " . ")) if not t.isspace() and t not in _QUOTES
    ]
    if _STRETCHED.search(folded):
        words = [_unstretched(w, lexicon.programme, lexicon.language) for w in words]
    if "-" in words and lexicon.minus_cues and not lexicon.minus_cues.isdisjoint(words):
        words = _minus_signs(words, lexicon)
    if lexicon.not_even_verbs:
        words = [
            "no" if w == "ni" and i + 1 < len(words) and words[i + 1] in lexicon.not_even_verbs else w
            for i, w in enumerate(words)
        ]
    return words


def _minus_signs(words: list[str], lexicon: Lexicon) -> list[str]:
    """ "freezing here, -10 this morning": in a reply about the cold (the lexicon's `minus_cues`), a
    dash that starts a clause before a number is a minus sign, and the number no pain score. Not
    after a pain word ("pain -9") and not a list's dash ("-8 / -Y" has no cue)."""
    out = list(words)
    for i, w in enumerate(words[:-1]):
        starts = i == 0 or words[i - 1] in (",", ".", ";", "(")
        if w == "-" and starts and words[i + 1][0].isdigit():
            before = [x for x in words[max(0, i - 3) : i] if x.isalpha()]
            if not any(x in lexicon.pain_words for x in before):
                out[i] = "minus"
    return out


_STRETCHED = re.compile(r"([^\W\d_])\1\1")


@lru_cache(maxsize=4096)
def _unstretched(word: str, programme: str, language: str) -> str:
    """A word typed with a letter held down ("doneee", "sorrry", "numbbb", "LISTOOO") is the word:
    each run of three or more letters becomes two if that is a word ("sorry"), else one if that is
    ("done"). Keysmashes stay as they are ("kkkkkk", "jjjjkkkk"): nothing the reader can read."""
    if not _STRETCHED.search(word):
        return word
    lexicon = load(programme, language)
    runs = len(_STRETCHED.findall(word))
    for form in (re.sub(r"([^\W\d_])\1{2,}", r"\1\1", word), re.sub(r"([^\W\d_])\1{2,}", r"\1", word)):
        short = len(form) < 3 and (runs > 1 or len(set(form)) < 2)  # "jk" of "jjjjkkkk", "kk" of "kkkkkk"
        if not short and (form in lexicon.known or form in lexicon.everyday or form in lexicon.spoken):
            return form
    return word


def _emoji_word(c: str, lexicon: Lexicon) -> str:
    """An emoji the table lacks, read by its Unicode name ("🙌" RAISING HANDS): a thank-you or
    nothing. Letters, digits and every other character stay as they are."""
    if c.isascii() or unicodedata.category(c) != "So":
        return c
    name = set(unicodedata.name(c, "").replace("-", " ").split())
    if name & lexicon.emoji_ack and not name & lexicon.emoji_not_ack:
        return f" {lexicon.emoji.get('👍', 'ok')} "
    return c


INHERENTLY_NEGATIVE = {
    "no",
    "not",
    "cant",
    "cannot",
    "couldnt",
    "without",
    "never",
    "lost",
    "unable",
    "nothing",
    "dont",
    "doesnt",
    "didnt",
    "wont",
    "sin",
    "nada",
    "ni",
}


# A short clause with one of these before a comma is a time in the past that dates what follows.
_PAST_OPENER = frozenset({"ago", "hace", "pasado", "pasada", "antepasado"})
_NOW = frozenset({"now", "ahora"})


class Doc:
    """The tokens of one reply and what each offers, with clause boundaries."""

    def __init__(self, words: list[str], lexicon: Lexicon):
        self.words = words
        self.lexicon = lexicon
        self.keys = [token_keys(w, lexicon) for w in words]
        self.clause = self._clauses()
        self.excluded: set[int] = set()  # words of an idiom a concept ignores ("fell asleep"): read
        self.idioms: dict[str, set[int]] | None = None
        self.skippable = not lexicon.skippable.isdisjoint(words)  # most replies have no such adverb

    def _clauses(self) -> list[int]:
        clause, out, start = 0, [], 0
        lex = self.lexicon
        for i, w in enumerate(self.words):
            if w == "," and (start == 0 or self.words[start - 1] != ",") and self._time_opener(start, i):
                out.append(clause)  # "Years ago, I had a bad fall": the time is the next words'
                continue
            if w in _BOUNDARIES or w in lex.clause_breaks or (w == "," and not self._list_comma(i)):
                start = i + 1
                clause += 1
                out.append(-1)  # the boundary itself belongs to no clause
                continue
            out.append(clause)
        return out

    def _time_opener(self, start: int, i: int) -> bool:
        """The words before this comma, from the reply's or a sentence's start, are only a time in
        the past: "Years ago,", "Long ago,", "Last year,", "Hace 20 años,", "El año pasado,". (After
        a comma such a time dates what came before: "a bladder problem after my baby, 20 years ago,
        nothing since".)"""
        opener = self.words[start:i]
        if not (
            0 < len(opener) <= 4 and (_PAST_OPENER.intersection(opener) or opener[0] in ("last", "long"))
        ):
            return False
        # Not when the sentence says it goes on or is back ("Hace muchos años, se me escapaba la
        # orina, y hoy otra vez", "…, still do"); "now" is only the time of the score ("now pain 1").
        end = next(
            (j for j in range(i, len(self.words)) if self.words[j] in (".", "!", "?")), len(self.words)
        )
        rest = self.words[i + 1 : end]
        return not any(has_phrase(rest, phrase) for phrase in self.lexicon.ongoing_words - _NOW)

    def _list_comma(self, i: int) -> bool:
        """A comma inside a list keeps one clause: "no numbness, tingling or weakness"."""
        after = self.words[i + 1 : i + 5]
        return any(w in ("or", "nor", "o", "ni", "u") for w in after) and not any(
            w in _BOUNDARIES for w in after
        )


@lru_cache(maxsize=65536)
def _keys_cached(word: str, programme: str, language: str) -> frozenset[str]:
    lexicon = load(programme, language)
    if word in lexicon.shorthand:  # "lgs": every key of "legs"
        return _keys_cached(lexicon.shorthand[word], programme, language) | {"e:" + word}
    keys = {"e:" + word, "w:" + lexicon.stem(word)}
    if word.isalpha():
        prefixed = {p for p in lexicon.prefixes if word.startswith(p)}
        keys.update("p:" + p for p in prefixed)
        # A real word is no typo: "footy" is not "foot", "bake" not "bike", nor one of the other
        # language ("chiles" is no "chills", "panas" no "panal"). Nor is a word the lexicon reads by
        # its beginning: "tingle" (tingl*) is not "bingle" (a crash).
        if (
            not any(len(p) >= 5 for p in prefixed)
            and len(word) >= 4
            and word not in lexicon.known
            and word not in lexicon.everyday
            and word not in lexicon.fillers
            and not a_real_word(programme, language, word)
        ):
            cutoff = 1 if len(word) < 9 else 2
            # OSA counts a swap of two letters as one typo: "wlak" is "walk".
            # Every word that close, in a fixed order: the first five of a set's iteration order
            # made the reading change with PYTHONHASHSEED ("pato": "pata", "palo", "plato"...).
            for candidate, _score, _i in process.extract(
                word, _typo_targets(programme, language), scorer=OSA.distance, score_cutoff=cutoff, limit=None
            ):
                if len(candidate) >= 4:
                    keys.add("w:" + lexicon.stem(candidate))
            for prefix in lexicon.prefixes:
                if len(prefix) >= 6 and OSA.distance(word[: len(prefix)], prefix, score_cutoff=1) <= 1:
                    keys.add("p:" + prefix)
            # Spelt as it sounds ("pexo" for "pecho"), or two words run together ("chestpain").
            for wrong, right in lexicon.sound_alikes:
                if wrong in word:
                    form = word.replace(wrong, right)
                    if form in lexicon.words:
                        keys.add("w:" + lexicon.stem(form))
                    keys.update("p:" + p for p in lexicon.prefixes if len(p) >= 4 and form.startswith(p))
            for cut in range(4, len(word) - 3):
                head, tail = word[:cut], word[cut:]
                if head in lexicon.words and (tail in lexicon.words or tail in lexicon.pain_words):
                    keys.update(("w:" + lexicon.stem(head), "w:" + lexicon.stem(tail)))
    return frozenset(keys)


@cache
def _typo_targets(programme: str, language: str) -> tuple[str, ...]:
    return tuple(sorted(load(programme, language).words))


def token_keys(word: str, lexicon: Lexicon) -> frozenset[str]:
    return _keys_cached(word, lexicon.programme, lexicon.language)


@dataclass
class Match:
    concept: str
    clause: int
    positions: tuple[int, ...]  # the tokens that matched, each group's
    # Other tokens of the clause that a group of the same pattern names: "fuerza normal en los
    # brazos" reads "fuerza" and "brazos" both, "no chest pain or tightness" both findings.
    related: tuple[int, ...] = ()

    @property
    def start(self) -> int:
        return min(self.positions)

    @property
    def end(self) -> int:
        return max(self.positions) + 1


def find(doc: Doc) -> list[Match]:
    """Every concept's matches: per clause, each group of a pattern on its own tokens, in any order.
    A pattern matches as often as it can on distinct tokens ("numb hands, tingly feet": two)."""
    where: dict[str, list[int]] = {}
    # A word that ends a clause ("except", "but") is in no clause, but a pattern whose groups may
    # sit in different clauses ("~ ") can name it: "no numbness except my groin".
    breaks: dict[str, list[int]] = {}
    for i, keys in enumerate(doc.keys):
        if doc.clause[i] >= 0:
            for key in keys:
                where.setdefault(key, []).append(i)
        elif doc.words[i].isalpha():
            for key in keys:
                breaks.setdefault(key, []).append(i)
    across = (
        {k: sorted(where.get(k, []) + breaks.get(k, [])) for k in where.keys() | breaks.keys()}
        if breaks
        else where
    )
    matches = []
    index = _pattern_index(doc.lexicon.programme, doc.lexicon.language)
    candidates = {entry[0]: entry for key in where for entry in index.get(key, ())}
    all_idioms = _all_idioms(doc)
    for order in sorted(candidates):
        _order, concept, pattern, anywhere, firsts = candidates[order]
        offered = across if anywhere else where
        offered_keys = offered.keys()
        # (the first group's keys are in the reply: that is how the pattern became a candidate)
        if any(offered_keys.isdisjoint(keys) for keys in firsts[1:]):
            continue
        excluded = all_idioms.get(concept, _NONE)
        doc.excluded |= excluded
        hits = []
        for by_first in pattern:  # a group with no hit ends the pattern: the rest are not looked for
            group_hits = _group_hits(doc, by_first, offered)
            if excluded:
                group_hits = [span for span in group_hits if excluded.isdisjoint(span)]
            if not group_hits:
                break
            hits.append(group_hits)
        if len(hits) < len(pattern):
            continue
        if anywhere:
            clauses: set[int | None] = {None}
        else:
            clauses = set.intersection(*({doc.clause[span[0]] for span in group_hits} for group_hits in hits))
        for clause in sorted(clauses, key=lambda c: -1 if c is None else c):
            used: set[int] = set()
            first = len(matches)
            while (found := _assign(hits, clause, doc, used)) is not None:
                used.update(found)
                home = next((doc.clause[i] for i in found if doc.clause[i] >= 0), -1)
                matches.append(Match(concept, home if clause is None else clause, found))
            for match in matches[first:]:
                match.related = tuple(
                    i
                    for group_hits in hits
                    for span in group_hits
                    if doc.clause[span[0]] == match.clause
                    for i in span
                    if i not in match.positions
                )
    return matches


def has_phrase(words: list[str], phrase: str) -> bool:
    parts = phrase.split()
    return any(words[i : i + len(parts)] == parts for i in range(len(words) - len(parts) + 1))


_NONE: frozenset[int] = frozenset()


def idioms(doc: Doc) -> set[int]:
    """Every concept's idioms in this reply, whether or not the concept matched: "walked the dog",
    "chest of drawers" are read as what they are, not left for the clinic."""
    return set().union(*_all_idioms(doc).values())


def _all_idioms(doc: Doc) -> dict[str, set[int]]:
    """Each concept's idioms found in the reply (once per reply)."""
    if doc.idioms is None:
        found: dict[str, set[int]] = {}
        index = _idiom_index(doc.lexicon.programme, doc.lexicon.language)
        words = doc.words
        for i, word in enumerate(words):
            for concept, phrase in index.get(word, ()):
                if tuple(words[i : i + len(phrase)]) == phrase:
                    found.setdefault(concept, set()).update(range(i, i + len(phrase)))
        doc.idioms = found
    return doc.idioms


@cache
def _idiom_index(programme: str, language: str) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    index: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for concept in load(programme, language).concepts.values():
        for phrase in concept.exclude:
            index.setdefault(phrase[0], []).append((concept.name, phrase))
    return index


@cache
def _pattern_index(programme: str, language: str) -> dict[str, list[tuple]]:
    """key -> the patterns whose first group a token with that key can start: a reply visits only the
    patterns its words could begin, in the lexicon's order."""
    index: dict[str, list[tuple]] = {}
    order = 0
    for concept in load(programme, language).concepts.values():
        for pattern, anywhere, firsts in zip(concept.patterns, concept.anywhere, concept.first_keys):
            entry = (order, concept.name, tuple(_by_first_key(group) for group in pattern), anywhere, firsts)
            order += 1
            for key in firsts[0]:
                index.setdefault(key, []).append(entry)
    return index


def _group_hits(doc: Doc, by_first, where: dict[str, list[int]]) -> list[tuple[int, ...]]:
    """Each place one of the group's alternatives (by the key of their first word) matches: a token,
    or a phrase within one clause."""
    found: list[tuple[int, int, tuple[int, ...]]] = []  # (alternative's order, hit's order, span)
    keys = by_first.keys() & where.keys() if len(by_first) > len(where) else where.keys() & by_first.keys()
    clause, doc_keys, n = doc.clause, doc.keys, len(doc.words)
    skippable = doc.lexicon.skippable
    for key in keys:
        positions = where[key]
        for k, alt, rest in by_first[key]:
            if not rest:
                found.extend((k, i, (i,)) for i in positions)
                continue
            # The hot loop of reading: most phrases fail on their second word, so look there first,
            # inline; a loose phrase needs that word to match or to be an adverb it may skip.
            second, later = rest[0], rest[1:]
            for i in positions:
                if i + 1 >= n:
                    continue
                next_matches = second in doc_keys[i + 1]
                if (
                    next_matches
                    and clause[i + 1] == clause[i]
                    and i + len(rest) < n
                    and all(
                        clause[j] == clause[i] and rest_key in doc_keys[j]
                        for j, rest_key in enumerate(later, i + 2)
                    )
                ):
                    found.append((k, i, tuple(range(i, i + len(rest) + 1))))
                elif (
                    doc.skippable
                    and (next_matches or doc.words[i + 1] in skippable)
                    and (loose := _loose_phrase(doc, alt, i))
                ):
                    found.append((k, i, loose))
    # "shoulder blades" before "shoulder"; then in the lexicon's order of alternatives
    found.sort(key=lambda hit: (-len(hit[2]), hit[0], hit[1]))
    return [span for _, _, span in found]


def _by_first_key(group) -> dict[str, list[tuple[int, tuple, tuple[str, ...]]]]:
    """A group's alternatives by the key of their first word, in the lexicon's order, each with the
    keys of its other words: a reply looks up only the keys it has, not every alternative (groups
    have hundreds)."""
    index: dict[str, list[tuple[int, tuple, tuple[str, ...]]]] = {}
    for k, alt in enumerate(group):
        index.setdefault(alt[0].key, []).append((k, alt, tuple(term.key for term in alt[1:])))
    return index


def _loose_phrase(doc: Doc, alt, i: int) -> tuple[int, ...] | None:
    """A phrase with an adverb inside it: "cant really feel", "couldnt quite hold" (the lexicon's
    `skippable` words, at most two)."""
    j, skipped = i + 1, 0
    for term in alt[1:]:
        while j < len(doc.words) and doc.words[j] in doc.lexicon.skippable and skipped < 2:
            j, skipped = j + 1, skipped + 1
        if j >= len(doc.words) or doc.clause[j] != doc.clause[i] or term.key not in doc.keys[j]:
            return None
        j += 1
    return tuple(range(i, j)) if skipped else None


def _assign(hits, clause: int | None, doc: Doc, used: set[int]) -> tuple[int, ...] | None:
    taken = set(used)
    positions: list[int] = []
    for group_hits in hits:
        # A negative the pattern can take is part of the finding ("havent had a wee all day"), not
        # left outside it to negate it.
        group_hits = sorted(
            group_hits, key=lambda span: not any(doc.words[i] in INHERENTLY_NEGATIVE for i in span)
        )
        span = next(
            (
                s
                for s in group_hits
                if (clause is None or doc.clause[s[0]] == clause) and not taken.intersection(s)
            ),
            None,
        )
        if span is None:
            return None
        taken.update(span)
        positions.extend(span)
    return tuple(sorted(positions))
