"""Lexicons as data: what a programme's replies can report, per language, for clinicians to review.

One TOML file per programme and language under followup/data/lexicons/<programme>/<language>.toml.
A concept (a red flag, numbness, a DONE, an acknowledgement...) is a list of patterns. A pattern is
groups joined by ` + `; every group must be found in the same clause, in any order. A group is
alternatives joined by `|`: a word (matched by its stem, and with one typo when it is long enough),
`prefix*`, `=exact`, a phrase of several words in a row, or `@MACRO`. ConText rules (negation,
uncertainty, hypotheticals, history, someone else) are data in the same file, in medspaCy's format.
Validated when loaded: a mistake names the file and the entry.
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache

import snowballstemmer
from spellchecker import SpellChecker

from .errors import FollowupError
from .resources import data_dir

STEMMERS = {"en": "english", "es": "spanish"}
# A reply may mix the two: each language's reading is checked against the other's.
OTHER_LANGUAGE = {"en": "es", "es": "en"}
CONTEXT_CATEGORIES = {
    "NEGATED_EXISTENCE",
    "POSSIBLE_EXISTENCE",
    "HYPOTHETICAL",
    "HISTORICAL",
    "FAMILY",
    "TERMINATE",
    "PSEUDO",
    "SELF",
}
_CONTEXT_KEYS = {
    "literal",
    "category",
    "direction",
    "pattern",
    "max_scope",
    "allowed_types",
    "excluded_types",
    "terminated_by",
}
# Concepts that report nothing clinical: their words are not typo targets ("tight" must not become
# "night"), and a word of theirs is not a reason for review.
PLAIN_CONCEPTS = {"ack", "done", "not_done", "question", "pain_zero", "site_limb", "site_back", "everyday"}


@dataclass(frozen=True)
class Term:
    """One token of an alternative: `key` is what a token must offer (see reading.token_keys)."""

    key: str


Alternative = tuple[Term, ...]  # one token, or a phrase of tokens in a row
Group = tuple[Alternative, ...]
Pattern = tuple[Group, ...]


@dataclass(frozen=True)
class Concept:
    name: str
    patterns: tuple[Pattern, ...]
    anywhere: tuple[bool, ...] = ()  # per pattern: its groups may sit in different clauses ("~ " prefix)
    # Per pattern, per group, the keys its alternatives start with: a reply offering none of a group's
    # keys cannot match the pattern, whatever else it says (most replies, most patterns).
    first_keys: tuple[tuple[frozenset[str], ...], ...] = ()
    # Phrases whose words never count for this concept: "fell asleep" is no fall, "chest of drawers"
    # no chest pain.
    exclude: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Lexicon:
    programme: str
    language: str
    concepts: dict[str, Concept]
    words: frozenset[str]  # every plain word the patterns name (folded): the typo matcher's vocabulary
    prefixes: frozenset[str]
    known: frozenset[str]  # words never corrected as typos: the lexicon's own and the fillers
    fillers: frozenset[str]  # words that say nothing a clinician must read
    yes: frozenset[str]
    yes_followers: frozenset[str]  # "sí tengo, en la pierna": the yes still answers the question
    no: frozenset[str]
    question_starts: frozenset[str]
    units: frozenset[str]  # a number followed by one of these counts something: not a pain score
    # Words for the exercises themselves: a number one or two words before one counts them ("10
    # head lifts", "10/10 head lifts"); also units.
    exercise_units: frozenset[str]
    exercise_words: frozenset[str]  # words of the exercises' names before the counted word ("head")
    time_words: frozenset[str]  # "at 8", "a las 8": a time, not a pain score
    name_words: frozenset[str]  # "route 9", "room 4", "la vecina del 4": a name, not a pain score
    days: frozenset[str]  # "thursday at 10", "el jueves a las 10": a time, not a pain score
    weather_words: frozenset[str]  # "108 out there", "hace 40 grados": a temperature of the weather
    outside_reasons: frozenset[str]  # "no pude caminar porque llovió": the weather kept them in
    not_even_verbs: frozenset[str]  # "ya ni siento las piernas": "ni" before one of these is "no"
    temperature_words: frozenset[str]
    transition_words: frozenset[str]  # "from 7 to 3": the score after one of these is the current one
    now_words: frozenset[str]
    # "the right one", "that one": "one" after these is a thing, not a score of 1.
    one_pronoun: frozenset[str]
    arrival_words: frozenset[str]  # "be there in 10", "llego en 15": minutes, not a score
    # A past finding with one of these ("had chest pain this morning", "anoche me caí") is within
    # the programme: no history, it fires.
    recent_words: frozenset[str]
    # A sentence with one of these speaks of now ("20 years ago, and now again"): a history in a
    # clause of its own does not reach its other clauses.
    ongoing_words: frozenset[str]
    # Verbs of the past: a clause with one, just before a history said on its own ("had a bladder
    # problem, 20 years ago,"), is dated by it.
    past_markers: frozenset[str]
    # Words of the cold: in a reply with one, "-10" is minus ten ("freezing here, -10 this morning").
    minus_cues: frozenset[str]
    # "is a 4 normal", "es un 3 normal": after "is a 4", a judgement of the score asks a question.
    score_judgements: frozenset[str]
    # Hypothetical triggers that only a question makes one: Spanish "si" is "if", but folded it is
    # also "sí" (yes): "si tengo hormigueo en la mano" reports it.
    question_if: frozenset[str]
    pain_words: frozenset[str]
    clause_breaks: frozenset[str]
    skippable: frozenset[str]  # adverbs a phrase may have inside it: "cant really feel"
    relays: tuple[tuple[str, ...], ...]  # "mi esposo dice que le diga": a relative writes for the patient
    kin_relays: frozenset[tuple[str, ...]]  # relays that count only after a relative ("says", "dice")
    kin: frozenset[str]  # the relatives who may write for a patient
    # whose finding, beside the writer's own score, is their news: children, pets, neighbours
    others_news: frozenset[str]
    not_typos: frozenset[str]  # real words one letter from a symptom word: "number" is not "numbed"
    # The words that open an exception ("no numbness except my groin", from the EXCEPT macro) or
    # say there is less ("less feeling in my fingers"), and the feelings that make either another
    # finding ("except my bottom is sore", "less feeling of pain in my bum").
    excepting: frozenset[str]
    lessening: frozenset[str]
    other_feelings: frozenset[str]
    # What makes an exception the patient's normal, not a finding: "except when I sit cross legged
    # too long, normal for me", "other than my fingers when I hold the phone, like always".
    explained_away: frozenset[str]
    # A walking aid the patient has long used is no new difficulty walking (E2): "I've always walked
    # with a cane", "siempre he caminado con bastón"; "but now I need a walker" is.
    walking_aids: frozenset[str]
    long_standing: frozenset[str]
    news: frozenset[str]
    clinical: frozenset[str]  # words that may describe a symptom: never left unread as chit-chat
    everyday: frozenset[str]  # the commonest words: never corrected as typos
    # A wider list, for chit-chat only: a word left unread that is in it is no reason for review
    # ("lasagne", "netball"), but it stays a typo candidate ("blatter" may be "bladder").
    chit_chat: frozenset[str]
    # The chit-chat the lexicon names itself ("panas", "chiles"): real words, never typos of another.
    chit_chat_named: frozenset[str]
    # Everyday words as people text them (followup/data/words/, from wordfreq by
    # tools/spoken_words.py): chit-chat as well, but as exact forms only, never as stems of others.
    spoken: frozenset[str]
    # Spelling variants tried on a word the lists lack: "neighbour" is "neighbor", "centre" "center".
    variants: tuple[tuple[str, str], ...]
    # Spellings by sound, tried on a word that may be a typo: "pexo" is "pecho" (Spanish "x" for "ch").
    sound_alikes: tuple[tuple[str, str], ...]
    shorthand: dict[str, str]  # texting forms read as the word: "lgs" is "legs"
    # The parts and functions a patient says are fine ("bladder fine", "both legs ok"): the words
    # of the macros that name them (FUNCTION, ARM, LEG, LEGS, BACK, BOTHSIDES, WALKWORDS). "fine"
    # after any other word of a finding does not deny it ("chest pain ok", "wet myself 👍").
    functions: frozenset[str]
    emoji: dict[str, str]
    # An emoji the table does not name, by its Unicode name: a name with a word of `ack` ("RAISING
    # HANDS", "HUNDRED POINTS") and none of `not_ack` ("BROKEN HEART") reads as the table's 👍.
    emoji_ack: frozenset[str]
    emoji_not_ack: frozenset[str]
    # A phone's reaction sent as text, quoting our message ("Liked “time for your exercises…”"):
    # the verb, and what it means ("ack" or "question").
    reactions: tuple[tuple[str, str], ...]
    context_rules: tuple[dict, ...]

    def stem(self, word: str) -> str:
        return _stemmer(self.language).stemWord(word)


def _first_keys(patterns: tuple[Pattern, ...]) -> tuple[tuple[frozenset[str], ...], ...]:
    return tuple(tuple(frozenset(alt[0].key for alt in group) for group in pattern) for pattern in patterns)


@cache
def _stemmer(language: str):
    return snowballstemmer.stemmer(STEMMERS[language])


def _words(raw: dict, key: str, where: str) -> frozenset[str]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise FollowupError(f"{where}: {key} must be a list of words")
    return frozenset(v.lower() for v in value)


def _term(text: str, language: str) -> Term:
    if text.startswith("="):
        return Term("e:" + text[1:])
    if text.endswith("*"):
        return Term("p:" + text[:-1])
    return Term("w:" + _stemmer(language).stemWord(text))


def _pattern(text: str, macros: dict[str, str], language: str, where: str) -> Pattern:
    groups = []
    for group_text in text.split(" + "):
        alternatives = []
        for alt in group_text.split("|"):
            alt = alt.strip()
            if alt.startswith("@"):
                if alt[1:] not in macros:
                    raise FollowupError(f"{where}: unknown macro {alt}")
                alternatives.extend(_pattern(macros[alt[1:]], macros, language, where)[0])
                continue
            if not alt or any(c in alt for c in "+@") or alt in ("*", "="):
                raise FollowupError(f"{where}: empty or malformed alternative in {text!r}")
            alternatives.append(tuple(_term(word, language) for word in alt.lower().split()))
        groups.append(tuple(alternatives))
    return tuple(groups)


def _context_rule(rule: dict, where: str) -> dict:
    unknown = set(rule) - _CONTEXT_KEYS
    if unknown or "literal" not in rule or rule.get("category") not in CONTEXT_CATEGORIES:
        raise FollowupError(
            f"{where}: a context rule needs literal and a category in {sorted(CONTEXT_CATEGORIES)}"
            f" (and only {sorted(_CONTEXT_KEYS)}): {rule!r}"
        )
    direction = rule.get("direction", "FORWARD")
    if rule["category"] in ("TERMINATE", "PSEUDO", "SELF"):
        direction = "PSEUDO" if rule["category"] == "SELF" else rule["category"]
    if direction not in ("FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"):
        raise FollowupError(f"{where}: context rule {rule['literal']!r} has direction {direction!r}")
    # Our tokens are the reply's words as folded ("havent" stays one token), so a literal is matched
    # word by word; left to spaCy's tokenizer, "havent" would become "have" + "nt" and never match.
    pattern = rule.get("pattern") or [{"LOWER": word} for word in rule["literal"].split()]
    extra = {k: set(v) for k, v in rule.items() if k in ("allowed_types", "excluded_types", "terminated_by")}
    return {**rule, **extra, "direction": direction, "pattern": pattern}


@cache
def load(programme: str, language: str) -> Lexicon:
    path = data_dir("lexicons") / programme / f"{language}.toml"
    where = f"lexicon {programme}/{language}"
    if language not in STEMMERS:
        raise FollowupError(f"{where}: no stemmer for language {language!r}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FollowupError(f"{where}: {exc}") from exc
    macros = raw.get("macros", {})
    concepts = {}
    for name, entry in raw.get("concepts", {}).items():
        patterns = entry.get("patterns")
        if not isinstance(patterns, list) or not patterns:
            raise FollowupError(f"{where}: concepts.{name} needs a list of patterns")
        parsed = tuple(
            _pattern(p.removeprefix("~ "), macros, language, f"{where}: concepts.{name}") for p in patterns
        )
        exclude = entry.get("exclude", [])
        if not isinstance(exclude, list) or not all(isinstance(e, str) and e.strip() for e in exclude):
            raise FollowupError(f"{where}: concepts.{name}.exclude must be a list of phrases")
        concepts[name] = Concept(
            name,
            parsed,
            tuple(p.startswith("~ ") for p in patterns),
            _first_keys(parsed),
            tuple(tuple(e.lower().split()) for e in exclude),
        )
    words, prefixes = set(), set()
    for concept in concepts.values():
        for pattern in concept.patterns:
            for group in pattern:
                for alt in group:
                    for term in alt:
                        kind, text = term.key.split(":", 1)
                        (prefixes if kind == "p" else words).add(text)
    plain = set(_plain_words(raw, macros, clinical_only=True))
    lists = {
        key: _words(raw.get("lists", {}), key, where)
        for key in (
            "fillers",
            "yes",
            "yes_followers",
            "no",
            "question_starts",
            "units",
            "exercise_units",
            "exercise_words",
            "time_words",
            "name_words",
            "days",
            "weather_words",
            "not_even_verbs",
            "outside_reasons",
            "temperature_words",
            "transition_words",
            "now_words",
            "one_pronoun",
            "arrival_words",
            "recent_words",
            "ongoing_words",
            "past_markers",
            "minus_cues",
            "score_judgements",
            "others_news",
            "question_if",
            "pain_words",
            "clause_breaks",
            "skippable",
            "not_typos",
            "other_feelings",
            "explained_away",
            "walking_aids",
            "long_standing",
            "news",
            "lessening",
            "clinical",
        )
    }
    singles = set(_plain_words(raw, macros, clinical_only=True, single=True))
    # An exact word ("=gatear") names no other form: its stem ("gat") is no clinical word ("gato").
    exact = set(_plain_words(raw, macros, clinical_only=True, single=True, exact_only=True))
    clinical = (
        lists.pop("clinical")
        | (lists["pain_words"] - lists["fillers"])  # "like" of "like a 4" makes no "liked" clinical
        | singles
        | {_stemmer(language).stemWord(w) for w in singles - exact}
    )
    top = raw.get("lists", {}).get("everyday_top", 0)
    chit_chat_top = raw.get("lists", {}).get("chit_chat_top", top)
    for key, value in (("everyday_top", top), ("chit_chat_top", chit_chat_top)):
        if not isinstance(value, int) or value < 0:
            raise FollowupError(f"{where}: lists.{key} must be a whole number")
    chit_chat_words = _words(raw.get("lists", {}), "chit_chat", where)
    relays = _words(raw.get("lists", {}), "relays", where)
    kin_relays = _words(raw.get("lists", {}), "kin_relays", where)
    variants, sound_alikes = raw.get("variants", {}), raw.get("sound_alikes", {})
    shorthand = raw.get("shorthand", {})
    for key, table in (("variants", variants), ("sound_alikes", sound_alikes), ("shorthand", shorthand)):
        if not isinstance(table, dict) or not all(
            isinstance(k, str) and k and isinstance(v, str) for k, v in table.items()
        ):
            raise FollowupError(f"{where}: {key} must map a spelling to another")
    emoji = raw.get("emoji", {})
    names = raw.get("emoji_names", {})
    emoji_ack, emoji_not_ack = (
        frozenset(w.upper() for w in _words(names, key, f"{where}: emoji_names"))
        for key in ("ack", "not_ack")
    )
    reactions = raw.get("reactions", {})
    reaction_verbs = tuple(
        (verb, meaning)
        for meaning in ("ack", "question")
        for verb in sorted(_words(reactions, meaning, f"{where}: reactions"), key=len, reverse=True)
    )
    rules = tuple(_context_rule(r, where) for r in raw.get("context", []))
    return Lexicon(
        programme=programme,
        language=language,
        concepts=concepts,
        words=frozenset(plain),
        prefixes=frozenset(prefixes),
        known=frozenset(
            plain | lists["fillers"] | lists["yes"] | lists["no"] | lists["pain_words"] | lists["not_typos"]
        ),
        emoji=dict(emoji),
        functions=frozenset(
            w.strip("=*")
            for name in ("FUNCTION", "ARM", "LEG", "LEGS", "BACK", "BOTHSIDES", "WALKWORDS")
            for alt in macros.get(name, "").split("|")
            for w in alt.split()
        ),
        emoji_ack=emoji_ack,
        emoji_not_ack=emoji_not_ack,
        reactions=reaction_verbs,
        context_rules=rules,
        everyday=_everyday(language, top, clinical, tuple(prefixes)),
        chit_chat=_everyday(language, chit_chat_top, clinical, tuple(prefixes))
        | frozenset(w for w in chit_chat_words if w not in clinical),
        chit_chat_named=frozenset(w for w in chit_chat_words if w not in clinical),
        spoken=_spoken(language, clinical, tuple(prefixes), plain),
        variants=tuple(variants.items()),
        relays=tuple(tuple(r.split()) for r in sorted(relays | kin_relays)),
        kin_relays=frozenset(tuple(r.split()) for r in kin_relays),
        kin=_words(raw.get("lists", {}), "kin", where),
        sound_alikes=tuple(sound_alikes.items()),
        shorthand=dict(shorthand),
        clinical=frozenset(clinical),
        excepting=frozenset(alt.split()[0] for alt in macros.get("EXCEPT", "").split("|") if alt.strip()),
        **lists,
    )


def _everyday(language: str, top: int, clinical: set[str], prefixes: tuple[str, ...]) -> frozenset[str]:
    """The language's `top` most frequent words (pyspellchecker's frequency lists), less every word
    that could describe a symptom: chit-chat a reader may leave unread ("3 N, long shift at work")."""
    if not top:
        return frozenset()
    frequencies = SpellChecker(language=language, distance=1).word_frequency.dictionary
    common = sorted(frequencies, key=frequencies.get, reverse=True)[:top]
    folded = {_fold(w) for w in common}
    stem = _stemmer(language).stemWord
    return frozenset(
        w for w in folded if w not in clinical and stem(w) not in clinical and not w.startswith(prefixes)
    )


def _spoken(language: str, clinical: set[str], prefixes: tuple[str, ...], named: set[str]) -> frozenset[str]:
    """wordfreq's texting forms, less any that may be a symptom word in another form
    (`_symptomatic`)."""
    path = data_dir("words") / f"{language}.txt"
    if not path.exists():
        return frozenset()
    symptomatic = _symptomatic(language, clinical, prefixes, named)
    return frozenset(w for w in path.read_text(encoding="utf-8").split() if not symptomatic(w))


def _symptomatic(language: str, clinical: set[str], prefixes: tuple[str, ...], named: set[str]):
    """Whether a word may be a symptom word in another form: one that starts with a clinical stem of
    four letters or more ("pechito", "corazoncito"), a dropped-g form of one ("passin", "shakin"),
    or any word a pattern names ("caigo" of "me caigo")."""
    stem = _stemmer(language).stemWord
    stems = clinical | {stem(c) for c in clinical}
    beginnings = {c for c in stems if len(c) >= 4}

    def symptomatic(w: str) -> bool:
        return (
            w in stems
            or w in named
            or stem(w) in stems
            or w.startswith(prefixes)
            or any(w[:k] in beginnings for k in range(4, len(w)))
            or (w.endswith("in") and stem(w + "g") in stems)
        )

    return symptomatic


def _expand(group: str, macros: dict[str, str]) -> str:
    alts = []
    for alt in group.split("|"):
        alt = alt.strip()
        alts.append(_expand(macros[alt[1:]], macros) if alt.startswith("@") and alt[1:] in macros else alt)
    return "|".join(alts)


def _fold(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


def _plain_words(
    raw: dict, macros: dict[str, str], clinical_only: bool, single: bool = False, exact_only: bool = False
):
    """The folded words that patterns name literally (the typo matcher corrects towards them).
    `single`: only words that are an alternative on their own ("bladder"), not words of a phrase
    ("work" of "wont work"), which are everyday words."""
    concepts = raw.get("concepts", {})
    texts = [
        p
        for name, entry in concepts.items()
        for p in entry.get("patterns", [])
        if not clinical_only or name not in PLAIN_CONCEPTS or (name == "done" and not single)
    ]
    if clinical_only and not single:  # long acknowledgements are typo targets too: "graciass", "thanx"
        texts += [
            alt
            for p in concepts.get("ack", {}).get("patterns", [])
            for alt in p.split("|")
            if " " not in alt.strip() and "+" not in alt and len(alt.strip()) >= 6
        ]
    for text in texts:
        groups = text.removeprefix("~ ").split(" + ")
        # A pattern's first group names the finding ("bladder", "legs"); the groups after it are
        # predicates ("gone", "hours", "like") that are everyday words on their own.
        for group in groups[:1] if single else groups:
            group = _expand(group, macros)
            for alt in group.split("|"):
                words = alt.strip().lower().split()
                if single and len(words) > 1:
                    continue
                for word in words:
                    if not word.startswith("@") and not word.endswith("*"):
                        if not exact_only or word.startswith("="):
                            yield word.removeprefix("=")
