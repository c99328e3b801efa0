"""Pure: a patient's SMS -> what it reports, by a lexicon (data, followup/lexicon.py) and ConText.

The steps, each on the same tokens (nothing rewrites the text the concepts are matched on):
1. fold (lower case, no accents, apostrophes dropped: "don't" -> "dont") and split into tokens and
   clauses (full stops, commas, "but"...);
2. each token offers keys: its stem, the prefixes it starts with, and the lexicon words it is one typo
   away from (rapidfuzz), so "tinglig" and "fngers" still match;
3. concepts are matched per clause, their groups in any order ("my groin is numb", "numb in my groin");
4. medspaCy's ConText marks each match negated, uncertain, hypothetical, historical or about someone
   else, with triggers from the lexicon (Spanish has its own);
5. numbers: pain scores and temperatures, read by text2num where written as words;
6. whatever the reader could not account for is returned, so the caller never answers it with a plain
   thank-you.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA
from text_to_num import text2num

from .lexicon import PLAIN_CONCEPTS, Lexicon, is_everyday, load

# Flags that a concept of the same name raises when it is present and not negated (or past, or
# hypothetical, or about someone else). Numbness raises its flag by the body site it names.
FLAG_CONCEPTS = ("bladder_bowel", "saddle_numbness", "both_legs", "walking", "chest_pain", "fall_accident",
                 "weakness", "fever", "night_pain", "shooting")
FLAGS = FLAG_CONCEPTS + ("limb_numbness",)
_TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+|[^\w\s]")
_BOUNDARIES = {".", "!", "?", ";", "\n"}


@dataclass(frozen=True)
class Reading:
    pain: int | None = None
    numbness: bool | None = None
    done: int | None = None  # None: not mentioned; 0: said they did not
    flags: frozenset[str] = frozenset()
    acknowledged: bool = False  # "thanks", "ok", "feeling better": nothing for anyone to do
    question: bool = False
    unaccounted: tuple[str, ...] = ()  # words the reader could not account for (the clinic reads them)
    chit_chat: bool = False  # everyday words beside the answer ("3 N, long day at work"): read, not understood
    denied: bool = False  # a finding the reply denies ("no chest pain"): an answer too
    temperature: float | None = None

    @property
    def understood(self) -> bool:
        return (self.pain is not None or self.numbness is not None or self.done is not None
                or bool(self.flags) or self.acknowledged or self.denied)


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    text = re.sub(r"(?<=[^\W\d])-(?=[^\W\d])", " ", text)  # "rear-ended" -> "rear ended"
    return re.sub(r"(?<=\w)'(?=\w)", "", text)  # "don't" -> "dont", "groin's" -> "groins"


def tokens(text: str, lexicon: Lexicon) -> list[str]:
    # "sí" (yes) keeps its accent's meaning: folded it would read as "si" (if).
    folded = fold(re.sub(r"(?i)\bsí\b", "sii", unicodedata.normalize("NFC", text or "")))
    for symbol, word in lexicon.emoji.items():
        folded = folded.replace(symbol, f" {word} ")
    return [t for t in _TOKEN_RE.findall(folded.replace("\n", " . ")) if not t.isspace()]


_NUMBER_WORDS = {"en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"],
                 "es": ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez"]}


@lru_cache(maxsize=65536)
def _number(token: str, language: str) -> float | None:
    if token.endswith("ish") and len(token) > 3:
        token = token[:-3]  # "fiveish"
    if token[0].isdigit():
        return float(token.replace(",", "."))
    try:
        return float(text2num(token, language))
    except ValueError:
        pass
    return None


@lru_cache(maxsize=65536)
def _misspelt_number(token: str, programme: str, language: str) -> float | None:
    """ "sevn", "eigth": a number word of four letters or more, one typo away, that is no other word."""
    lexicon = load(programme, language)
    if len(token) < 4 or token in lexicon.known or token in lexicon.everyday:
        return None
    words = [w for w in _NUMBER_WORDS.get(language, []) if len(w) >= 4]
    found = process.extractOne(token, words, scorer=OSA.distance, score_cutoff=1)
    return float(_NUMBER_WORDS[language].index(found[0])) if found else None


class _Doc:
    """The tokens of one reply and what each offers, with clause boundaries."""

    def __init__(self, words: list[str], lexicon: Lexicon):
        self.words = words
        self.lexicon = lexicon
        self.keys = [token_keys(w, lexicon) for w in words]
        self.clause = self._clauses()
        self.excluded: set[int] = set()  # words of an idiom a concept ignores ("fell asleep"): read

    def _clauses(self) -> list[int]:
        clause, out = 0, []
        lex = self.lexicon
        for i, w in enumerate(self.words):
            if w in _BOUNDARIES or w in lex.clause_breaks or (w == "," and not self._list_comma(i)):
                clause += 1
                out.append(-1)  # the boundary itself belongs to no clause
                continue
            out.append(clause)
        return out

    def _list_comma(self, i: int) -> bool:
        """A comma inside a list keeps one clause: "no numbness, tingling or weakness"."""
        after = self.words[i + 1:i + 5]
        return any(w in ("or", "nor", "o", "ni", "u") for w in after) and not any(w in _BOUNDARIES for w in after)


@lru_cache(maxsize=65536)
def _keys_cached(word: str, programme: str, language: str) -> frozenset[str]:
    lexicon = load(programme, language)
    keys = {"e:" + word, "w:" + lexicon.stem(word)}
    if word.isalpha():
        keys.update("p:" + p for p in lexicon.prefixes if word.startswith(p))
        # A real word is no typo: "footy" is not "foot", "bake" not "bike".
        if len(word) >= 4 and word not in lexicon.known and word not in lexicon.everyday \
                and word not in lexicon.fillers:
            cutoff = 1 if len(word) < 9 else 2
            # OSA counts a swap of two letters as one typo: "wlak" is "walk".
            for candidate, _score, _i in process.extract(word, lexicon.words, scorer=OSA.distance,
                                                         score_cutoff=cutoff, limit=5):
                if len(candidate) >= 4:
                    keys.add("w:" + lexicon.stem(candidate))
            for prefix in lexicon.prefixes:
                if len(prefix) >= 6 and OSA.distance(word[:len(prefix)], prefix, score_cutoff=1) <= 1:
                    keys.add("p:" + prefix)
    return frozenset(keys)


def token_keys(word: str, lexicon: Lexicon) -> frozenset[str]:
    return _keys_cached(word, lexicon.programme, lexicon.language)


@dataclass
class _Match:
    concept: str
    clause: int
    positions: tuple[int, ...]  # the tokens that matched, each group's

    @property
    def start(self) -> int:
        return min(self.positions)

    @property
    def end(self) -> int:
        return max(self.positions) + 1


def _find(doc: _Doc) -> list[_Match]:
    """Every concept's matches: per clause, each group of a pattern on its own tokens, in any order.
    A pattern matches as often as it can on distinct tokens ("numb hands, tingly feet": two)."""
    where: dict[str, list[int]] = {}
    for i, keys in enumerate(doc.keys):
        if doc.clause[i] >= 0:
            for key in keys:
                where.setdefault(key, []).append(i)
    matches = []
    index = _pattern_index(doc.lexicon.programme, doc.lexicon.language)
    candidates = {entry[0]: entry for key in where for entry in index.get(key, ())}
    for order in sorted(candidates):
        _order, concept, pattern, anywhere, firsts = candidates[order]
        if any(where.keys().isdisjoint(keys) for keys in firsts):
            continue
        hits = [_group_hits(doc, group, where) for group in pattern]
        excluded = _excluded(doc, concept)
        doc.excluded |= excluded
        if excluded:
            hits = [[span for span in group_hits if excluded.isdisjoint(span)] for group_hits in hits]
        if not all(hits):
            continue
        if anywhere:
            clauses: set[int | None] = {None}
        else:
            clauses = set.intersection(*({doc.clause[span[0]] for span in group_hits} for group_hits in hits))
        for clause in sorted(clauses, key=lambda c: -1 if c is None else c):
            used: set[int] = set()
            while (found := _assign(hits, clause, doc, used)) is not None:
                used.update(found)
                matches.append(_Match(concept, doc.clause[found[0]] if clause is None else clause, found))
    return matches


def _excluded(doc: _Doc, concept: str) -> set[int]:
    phrases = doc.lexicon.concepts[concept].exclude
    out: set[int] = set()
    for phrase in phrases:
        n = len(phrase)
        for i in range(len(doc.words) - n + 1):
            if tuple(doc.words[i:i + n]) == phrase:
                out.update(range(i, i + n))
    return out


@lru_cache(maxsize=None)
def _pattern_index(programme: str, language: str) -> dict[str, list[tuple]]:
    """key -> the patterns whose first group a token with that key can start: a reply visits only the
    patterns its words could begin, in the lexicon's order."""
    index: dict[str, list[tuple]] = {}
    order = 0
    for concept in load(programme, language).concepts.values():
        for pattern, anywhere, firsts in zip(concept.patterns, concept.anywhere, concept.first_keys):
            entry = (order, concept.name, pattern, anywhere, firsts)
            order += 1
            for key in firsts[0]:
                index.setdefault(key, []).append(entry)
    return index


def _group_hits(doc: _Doc, group, where: dict[str, list[int]]) -> list[tuple[int, ...]]:
    """Each place one of the group's alternatives matches: a token, or a phrase within one clause."""
    spans = []
    for alt in group:
        for i in where.get(alt[0].key, ()):
            if len(alt) == 1:
                spans.append((i,))
                continue
            span = tuple(range(i, i + len(alt)))
            if span[-1] < len(doc.words) and all(doc.clause[j] == doc.clause[i] and term.key in doc.keys[j]
                                                 for term, j in zip(alt, span)):
                spans.append(span)
    return sorted(spans, key=lambda span: -len(span))  # "shoulder blades" before "shoulder"


def _assign(hits, clause: int | None, doc: _Doc, used: set[int]) -> tuple[int, ...] | None:
    taken = set(used)
    positions: list[int] = []
    for group_hits in hits:
        # A negative the pattern can take is part of the finding ("havent had a wee all day"), not
        # left outside it to negate it.
        group_hits = sorted(group_hits, key=lambda span: not any(doc.words[i] in _INHERENTLY_NEGATIVE
                                                                 for i in span))
        span = next((s for s in group_hits if (clause is None or doc.clause[s[0]] == clause)
                     and not taken.intersection(s)), None)
        if span is None:
            return None
        taken.update(span)
        positions.extend(span)
    return tuple(sorted(positions))


# -- ConText: negation, uncertainty, hypotheticals, history, someone else --------------------------

class _ConText:
    """medspaCy's ConText over our own tokens (a spaCy Doc built from them), rules from the lexicon.
    spaCy and medspaCy take a second to import: only a process that reads a reply pays for it."""

    def __init__(self, lexicon: Lexicon):
        import spacy  # noqa: PLC0415 (deferred: 1.3 s of import for every CLI command otherwise)
        from medspacy.context import ConText, ConTextRule  # noqa: PLC0415
        from spacy.tokens import Doc, Span  # noqa: PLC0415

        self._Doc, self._Span = Doc, Span
        self.nlp = spacy.blank(lexicon.language)
        self.context = ConText(self.nlp, rules=None, input_span_type="group", span_group_name="concepts")
        self.context.add([ConTextRule(**rule) for rule in lexicon.context_rules])

    def __call__(self, doc: _Doc, matches: list[_Match]) -> tuple[list[str], set[int]]:
        """Each match's status ('present', 'negated' or 'other'), and the tokens the triggers cover."""
        sent_starts = [i == 0 or doc.clause[i] != doc.clause[i - 1] for i in range(len(doc.words))]
        sdoc = self._Doc(self.nlp.vocab, words=doc.words, spaces=[True] * len(doc.words), sent_starts=sent_starts)
        spans = [self._Span(sdoc, m.start, m.end, label=m.concept.upper()) for m in matches]
        sdoc.spans["concepts"] = spans
        self.context(sdoc)
        graph = sdoc._.context_graph
        graph_modifiers = list(graph.modifiers) if graph is not None else []
        statuses = []
        for span, match in zip(spans, matches):
            # medspaCy lets a trigger inside a target modify it (its overlap test misses containment):
            # the "doesnt" of "resting doesnt help" is part of the finding, not a negation of it.
            outside = [m for m in span._.modifiers
                       if not (span.start <= m.modifier_span[0] and m.modifier_span[1] <= span.end)]
            categories = {m.category for m in outside}
            if "NEGATED_EXISTENCE" in categories and not _negative_in_itself(doc, match, outside):
                statuses.append("negated")
            elif _lends_its_negation(span, spans, graph_modifiers):
                statuses.append("negated")
            elif categories & {"HYPOTHETICAL", "HISTORICAL"} or (
                    "FAMILY" in categories and not any(doc.words[i] in _FIRST_PERSON for i in match.positions)):
                statuses.append("other")  # "my husband had to help me up": the "me" makes it the patient's
            else:
                statuses.append("present")  # uncertain stays present: when in doubt, the higher tier
        covered: set[int] = set()
        graph = sdoc._.context_graph
        for modifier in graph.modifiers if graph is not None else ():
            start, end = modifier.modifier_span
            covered.update(range(start, end))
        return statuses, covered


def _lends_its_negation(span, spans, modifiers) -> bool:
    """ "my hands dont tingle": the "dont" that a weakness pattern ("hands" + "dont") took for a
    failing hand negates the tingling. A match whose negative word negates another finding in its
    clause is that negation, not a symptom of its own."""
    inside = [m for m in modifiers if m.category == "NEGATED_EXISTENCE"
              and span.start <= m.modifier_span[0] and m.modifier_span[1] <= span.end]
    for modifier in inside:
        for other in spans:
            if other is span or other.label_.lower() in PLAIN_CONCEPTS or other.label_ == span.label_:
                continue  # the same finding matched twice ("bladder", "not in control of my bladder")
            if other.start <= modifier.modifier_span[0] < other.end:
                continue  # the word belongs to the other finding too
            if modifier in other._.modifiers:
                return True
    return False


_INHERENTLY_NEGATIVE = {"no", "not", "cant", "cannot", "couldnt", "without", "never", "lost", "unable", "nothing",
                        "dont", "doesnt", "didnt", "wont", "sin", "nada", "ni"}
_FIRST_PERSON = {"me", "my", "i", "im", "ive", "myself", "mi", "mis", "yo", "tengo", "estoy", "siento"}
_AFTERWARDS = {"anymore", "any more", "no longer", "ya no", "no more"}


def _negative_in_itself(doc: _Doc, match: _Match, modifiers) -> bool:
    """ "I can't feel my legs anymore" is a symptom: when the match is itself a negative ("cant feel",
    "no control"), a trailing "anymore" says it is new, not that it is gone."""
    if not any(doc.words[i] in _INHERENTLY_NEGATIVE for i in match.positions):
        return False
    # Nor does a trailing "fine"/"bien": "la mano no me obedece bien" (does not obey well).
    negators = [m for m in modifiers if m.category == "NEGATED_EXISTENCE"]
    return all(m.rule.literal in _AFTERWARDS or m.direction == "BACKWARD" for m in negators)


@lru_cache(maxsize=None)
def _context_for(programme: str, language: str) -> _ConText:
    return _ConText(load(programme, language))


# -- numbers ----------------------------------------------------------------------------------------

def _numbers(doc: _Doc) -> tuple[int | None, float | None, set[int]]:
    """The pain score, a temperature, and the tokens they account for."""
    lex, words = doc.lexicon, doc.words
    candidates: list[tuple[int, int, bool]] = []  # (position, value, labelled as pain)
    temperature, used = None, set()
    strong = None
    for i, w in enumerate(words):
        value = _number(w, lex.language) if (w[0].isdigit() or w.isalpha()) else None
        after = words[i + 1] if i + 1 < len(words) else ""
        if value is None and w.isalpha() and (len(words) <= 2 or after in lex.yes | lex.no
                                               or (i > 0 and words[i - 1] in lex.pain_words)):
            value = _misspelt_number(w, lex.programme, lex.language)  # "sevn N", "pain eigth"
        if value is None:
            continue
        before = words[max(0, i - 2):i]
        if w.isalpha() and w in ("one", "un", "uno", "una", "a") and (
                (after.isalpha() and after not in lex.yes | lex.no) or (after and after[0].isdigit())):
            continue  # "one leg", "una pierna", "un 10": a word, not a score
        if 35 <= value <= 45 or 95 <= value <= 110:
            temperature = value
            used.add(i)
            continue
        if after in lex.units or (after == "x" and i + 2 >= len(words)) or (i > 0 and words[i - 1] == "x"):
            used.update((i, i + 1) if after in lex.units else (i,))
            continue
        if i >= 2 and words[i - 1] == "of" and words[i - 2] in lex.units:
            used.add(i)
            continue  # "3 sets of 10"
        if i > 0 and (words[i - 1] in lex.time_words or _DONE_COUNT.search(words[i - 1])) or after == ":":
            used.add(i)
            continue
        if value > 10 or value < 0:
            continue
        out_of = _out_of_ten(words, i, lex.language)
        if out_of:
            strong = (i, int(value + 0.5))
            used.update(range(i, i + out_of))
            continue
        if i >= 2 and _out_of_ten(words, i - 2, lex.language) or i >= 3 and _out_of_ten(words, i - 3, lex.language):
            continue  # the "10" of "6/10"
        labelled = any(b in lex.pain_words for b in words[max(0, i - 3):i])
        candidates.append((i, int(value + 0.5), labelled))
    used.update(i for i, _, _ in candidates)
    if strong:
        return strong[1], temperature, used
    if not candidates:
        return None, temperature, used
    for i, value, _ in candidates:
        if any(w in lex.now_words for w in words[max(0, i - 3):i + 2]):
            return value, temperature, used  # "7 yesterday, 3 now"
    if len(candidates) > 1 and any(w in lex.transition_words for w in words[candidates[0][0]:candidates[-1][0]]):
        return candidates[-1][1], temperature, used  # "went from 7 to 3": the current one
    labelled = [c for c in candidates if c[2]]
    if labelled:
        return labelled[0][1], temperature, used
    return max(v for _, v, _ in candidates), temperature, used  # "6 or 7": when in doubt, the higher


def _out_of_ten(words: list[str], i: int, language: str) -> int:
    """How many tokens "N/10", "N out of ten", "N de 10" take from i (0 if it is none of them)."""
    for between in (["/"], ["out", "of"], ["de"], ["over"], ["outta"], ["sobre"]):
        j = i + 1 + len(between)
        if words[i + 1:j] == between and j < len(words) and _number(words[j], language) == 10:
            return j - i + 1
    return 0


def _yes_no(doc: _Doc, number_positions: set[int], numb_positions: set[int]) -> tuple[bool | None, set[int]]:
    """A Y/N that answers the numbness question: after a score ("6 N"), after the word ("numb: no"),
    or the whole reply ("yes", "N")."""
    lex, words = doc.lexicon, doc.words
    content = [i for i, w in enumerate(words) if w[0].isalnum()]
    for i in content:
        w = words[i]
        if w not in lex.yes and w not in lex.no:
            continue
        prev = [j for j in content if j < i]
        nxt = [j for j in content if j > i]
        follows_number = bool(prev) and prev[-1] in number_positions and prev[-1] >= i - 2
        follows_numb = bool(prev) and prev[-1] in numb_positions and prev[-1] >= i - 2
        alone = all(j in number_positions or words[j] in lex.yes | lex.no for j in content)
        ends_clause = not nxt or doc.clause[nxt[0]] != doc.clause[i]
        opens_reply = not prev and i + 1 < len(words) and not words[i + 1][0].isalnum()
        if lex.language == "es" and w == "y" and not ends_clause:
            continue  # "5 y todavia hormigueo": "and"
        if (follows_number and (ends_clause or w not in ("no",))) or (follows_numb and ends_clause) or alone \
                or opens_reply:
            return w in lex.yes, {i}
    return None, set()


# -- putting it together ----------------------------------------------------------------------------

_COUNT_WORDS = {"twice": 2, "thrice": 3}
_DONE_COUNT = re.compile(r"^(?:done|did|finished|listo|lista|hecho|hechos|hecha|termine)$")  # "done 2": a count


def _done(doc: _Doc, present: dict[str, list[_Match]], negated: dict[str, list[_Match]]) -> int | None:
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
        if _DONE_COUNT.match(w) and i + 1 < len(words) and words[i + 1].isdigit() and (
                i + 2 >= len(words) or words[i + 2] not in doc.lexicon.units):
            return min(10, int(words[i + 1]))
    return 1


_NAME_RE = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-ZÁÉÍÓÚÑ][a-záéíóúñ]{2,})\b")


def _names(text: str) -> set[str]:
    """Capitalised words inside a sentence: names and places ("Houston", "Bake Off"), read as
    chit-chat. Not in a reply written all in capitals, where every word is."""
    if sum(c.isupper() for c in text) > sum(c.islower() for c in text):
        return set()
    return {fold(m.group(1)) for m in _NAME_RE.finditer(text)}


def _read_one(text: str, lexicon: Lexicon) -> tuple[Reading, set[str]]:
    words = tokens(text, lexicon)
    if not words:
        return Reading(), set()
    doc = _Doc(words, lexicon)
    matches = _find(doc)
    statuses, covered = _context_for(lexicon.programme, lexicon.language)(doc, matches) if matches else ([], set())
    present: dict[str, list[_Match]] = {}
    negated: dict[str, list[_Match]] = {}
    for match, status in zip(matches, statuses):
        if status == "present":
            present.setdefault(match.concept, []).append(match)
        elif status == "negated":
            negated.setdefault(match.concept, []).append(match)
        if not match.concept.startswith("site_"):
            covered.update(match.positions)
    # A body site is read when something in its clause is ("numb fingers"); alone ("my hand feels
    # weird") it is left for the clinic.
    read_clauses = {m.clause for m in matches if not m.concept.startswith("site_")}
    covered.update(p for m in matches if m.concept.startswith("site_") and m.clause in read_clauses
                   for p in m.positions)

    covered |= doc.excluded
    pain, temperature, number_positions = _numbers(doc)
    covered |= number_positions
    flags = {name for name in FLAG_CONCEPTS if present.get(name)}
    if temperature is not None and (temperature >= 37.8 and temperature < 45 or temperature >= 100):
        flags.add("fever")
    if present.get("temperature") and temperature is None:
        flags.add("fever")  # "I have a temperature"

    numb_positions = {p for m in present.get("numbness", []) + negated.get("numbness", []) for p in m.positions}
    answer, yn_positions = _yes_no(doc, number_positions, numb_positions)
    covered |= yn_positions
    numbness: bool | None = None
    if answer is False and numb_positions and any(p + 1 in yn_positions or p + 2 in yn_positions
                                                  for p in numb_positions):
        present.pop("numbness", None)  # "numb? no", "tingling: no"
    if present.get("numbness") or flags & {"saddle_numbness"}:
        numbness = True
    elif answer is not None:
        numbness = answer
    elif negated.get("numbness"):
        numbness = False
    for match in present.get("numbness", []):
        same_clause = {m.concept for ms in present.values() for m in ms if m.clause == match.clause}
        if "saddle_numbness" in same_clause or ("site_back" in same_clause and "site_limb" not in same_clause):
            continue  # around the groin (E1), or between the shoulder blades: not in an arm or leg (S3)
        flags.add("limb_numbness")
    if answer is True and not present.get("numbness"):
        flags.add("limb_numbness")  # the check-in asks about the arms and legs: a Y is a first report

    if pain is None and present.get("pain_zero"):
        pain = 0
    if pain is not None or present.get("pain_zero"):
        covered.update(i for i, w in enumerate(words) if w in lexicon.pain_words)

    question = "?" in words or words[0] in lexicon.question_starts or bool(present.get("question"))
    leftover = {w for i, w in enumerate(words) if i not in covered and w.isalpha() and w not in lexicon.fillers}
    unaccounted = {w for w in leftover if not is_everyday(lexicon, w) and w not in _names(text)}
    reading = Reading(pain=pain, numbness=numbness, done=_done(doc, present, negated), flags=frozenset(flags),
                      acknowledged=bool(present.get("ack")), question=question, chit_chat=bool(leftover),
                      denied=any(name not in PLAIN_CONCEPTS and name not in present for name in negated),
                      unaccounted=tuple(w for w in words if w in unaccounted), temperature=temperature)
    return reading, unaccounted


OTHER_LANGUAGE = {"en": "es", "es": "en"}


def read(text: str, language: str = "en", programme: str = "upper-back") -> Reading:
    """What a reply reports. Words the patient's language cannot account for are read in the other
    language too (people switch); a flag either finds counts, and only words neither accounts for
    are left for the clinic."""
    lexicon = load(programme, language if language in OTHER_LANGUAGE else "en")
    reading, unaccounted = _read_one(text, lexicon)
    if not unaccounted:
        return reading
    other, other_unaccounted = _read_one(text, load(programme, OTHER_LANGUAGE[lexicon.language]))
    if len(other_unaccounted) >= len(unaccounted):
        return reading  # not written in the other language either
    left = unaccounted & other_unaccounted
    return Reading(pain=reading.pain if reading.pain is not None else other.pain,
                   numbness=reading.numbness if reading.numbness is not None else other.numbness,
                   done=reading.done if reading.done is not None else other.done,
                   flags=reading.flags | other.flags, acknowledged=reading.acknowledged or other.acknowledged,
                   question=reading.question or other.question, chit_chat=reading.chit_chat, denied=reading.denied,
                   unaccounted=tuple(w for w in reading.unaccounted if w in left),
                   temperature=reading.temperature if reading.temperature is not None else other.temperature)
