"""Pure: a patient's SMS text -> what it says (pain 0-10, numbness yes/no, exercises done, red flags).

English and Spanish, the way people really write ("6 N", "pain is 6/10", "six", "no tingling",
"done x2", "still numb in my left arm"). Negation-aware within a clause: "no numbness" is not
numbness, "no pain but my arm is numb" is. Never raises: anything unrecognised is simply not
understood, and the caller asks once for clarification.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

NUMBERS = {"zero": 0, "none": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "ten": 10, "cero": 0, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4,
           "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10}
YES = {"y", "yes", "yeah", "yep", "yup", "s", "si", "sip"}
NO = {"n", "no", "nope", "nah"}
NEGATORS = {"no", "not", "without", "never", "none", "dont", "doesnt", "isnt", "arent", "havent", "hasnt",
            "didnt", "nor", "zero", "sin", "nunca", "tampoco", "ni", "nada", "cannot"}
# Words that undo a preceding negator: "not any better, still numb".
_NUMB = r"(?:numb\w*|tingl\w*|pins and needles|entumec\w*|hormigue\w*|adormec\w*|dormid[oa]s?)"
_LIMB = r"(?:arms?|hands?|fingers?|legs?|foot|feet|thumbs?|wrists?|brazos?|manos?|dedos?|piernas?|pies?|muneca)"
_UNIT = r"(?:x|times?|sets?|reps?|repetitions?|days?|dias?|veces|hours?|horas?|am|pm|minutes?|mins?|weeks?)"

FLAGS: dict[str, str] = {
    "bladder_bowel": r"bladder|bowel|incontinen\w*|wet (?:myself|my pants|the bed)|(?:can ?t|cannot|couldn ?t) "
                     r"(?:pee|urinate|hold (?:it|my (?:pee|urine)))|saddle|"
                     + _NUMB + r"\W+(?:\w+\W+){0,3}?(?:groin|buttocks?|bottom|genitals?|inner thighs?|ingle|nalgas?|"
                     r"genitales|entrepierna)|vejiga|intestin\w*|no puedo orinar|me orine|perdi el control",
    "both_legs": r"both (?:my )?legs|both feet|legs are (?:numb|weak|tingl\w*)|(?:can ?t|cannot|hard to|trouble|"
                 r"difficult\w*|problems?|struggl\w*) (?:to )?(?:walk\w*|stand\w*)|unsteady|off balance|"
                 r"(?:lose|losing|lost) (?:my )?balance|ambas piernas|las dos piernas|(?:no puedo|dificultad para) "
                 r"(?:caminar|andar)|inestable|perdi el equilibrio",
    "chest_pain": r"chest (?:feels? )?(?:pain|hurts?|tight\w*|pressure|heavy)|pain in (?:my |the )?chest|dolor (?:de|en el) pecho|"
                  r"me duele el pecho",
    "fall_accident": r"\bfell\b|\ba fall\b|\bfall(?:en)?\b (?:down|over|off)|accident|crash|car wreck|slipped|"
                     r"me cai|caida|accidente|choque",
    "weakness": r"weak\w*|dropping (?:things|stuff|everything)|drop(?:ped)? (?:things|stuff|everything|my \w+)|"
                r"(?:can ?t|cannot) (?:grip|hold (?:things|anything|a cup))|debil\w*|se me caen|no puedo agarrar",
    "fever": r"fever\w*|temperature|chills|fiebre|escalofrios?",
    "night_pain": r"at night|all night|wakes? me|keeps? me (?:up|awake)|can ?t sleep|cannot sleep|"
                  r"not (?:eased|better|relieved|helped) (?:by|with|when) rest\w*|rest (?:doesn ?t|does not|isn ?t|"
                  r"is not) help\w*|even (?:at|when|while) rest\w*|de noche|por la noche|me despierta|no puedo dormir|"
                  r"no mejora con (?:el )?descanso",
    "limb_numbness": _NUMB + r"\W+(?:\w+\W+){0,4}?" + _LIMB + r"|" + _LIMB + r"\W+(?:\w+\W+){0,2}?" + _NUMB,
    "shooting": r"shoot\w*|radiat\w*|electric\w*|down (?:my|the) (?:spine|back)|around (?:my|the) (?:ribs|chest|"
                r"torso|side)|across (?:my|the) (?:torso|chest|back)|punzante|corrientazo|descarga|"
                r"por la columna|alrededor de (?:las costillas|el torso|mi torso)",
}
_FLAG_RES = {name: re.compile(pattern) for name, pattern in FLAGS.items()}
_NUMB_RE = re.compile(r"\b" + _NUMB)
_DONE_RE = re.compile(r"\b(?:done|did (?:it|them|they|my \w+|all|both|\d+ (?:sets?|reps?|times?))|did em|completed?|"
                      r"finished|listo|lista|hecho|hechos|hecha|termine|complete)\b")
_NOT_DONE_RE = re.compile(r"\b(?:not done|didn ?t do|did not do|haven ?t done|skipped|no (?:las |los )?hice|"
                          r"no pude hacer|missed (?:it|them))\b")
_COUNT_RE = re.compile(r"(?:\bx ?(\d+)\b|\b(\d+) ?x\b|\b(\d+) times?\b|\b(\d+) veces\b|\btwice\b|\bdos veces\b|"
                       r"\b(?:done|hecho|listo) (\d+)\b)")
_PAIN_RE = re.compile(r"\b(\d+(?:[.,]\d+)?) ?(?:/ ?10|out of 10|de 10|over 10)\b|"
                      r"\b(?:pain|dolor|hurts?|level|nivel|score)\b(?: (?:is|was|es|de|at|about|around|like|"
                      r"level|now|today|hoy|ahora|esta|en))*[ :=-]*(\d+(?:[.,]\d+)?)\b")
# "none" and "una" are words first, numbers rarely. One pass for all: a loop of one substitution
# per number word was half the time of parsing a reply.
_NUMBER_WORDS = {word: str(value) for word, value in NUMBERS.items() if word not in ("none", "una", "uno")}
_NUMBER_WORD_RE = re.compile(r"\b(?:" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")\b")
_BARE_NUMBER_RE = re.compile(r"(?<![\w/.,])(\d+(?:[.,]\d+)?)(?![\w/])(?! ?" + _UNIT + r"\b)(?! ?/)")


@dataclass(frozen=True)
class Answer:
    pain: int | None = None
    numbness: bool | None = None
    done: int | None = None  # None: not mentioned; 0: said they did not
    flags: frozenset[str] = field(default_factory=frozenset)

    @property
    def understood(self) -> bool:
        return self.pain is not None or self.numbness is not None or self.done is not None or bool(self.flags)


def normalise(text: str) -> str:
    """Lower case, accents and curly quotes folded, apostrophes dropped, spaces collapsed."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.lower().replace("’", "'").replace("‘", "'").replace("'", " ")
    text = re.sub(r"[^\w/.,;:!?\n+-]", " ", text)
    text = _NUMBER_WORD_RE.sub(lambda m: _NUMBER_WORDS[m.group(0)], text)
    text = re.sub(r"\b(\d+)([yns])\b", r"\1 \2", text)  # "6N" -> "6 N"
    return re.sub(r"[ \t]+", " ", text).strip()


def _clauses(text: str) -> list[str]:
    # A full stop or comma between digits is a decimal ("6.5/10"), not a clause boundary.
    parts = re.split(r"(?<!\d)[.,]|[.,](?!\d)|[;!?\n]|\bbut\b|\bpero\b|\bthough\b|\balthough\b|\baunque\b", text)
    return [p.strip() for p in parts if p.strip()]


def _negated(clause: str, start: int) -> bool:
    before = re.findall(r"\w+", clause[:start])[-3:]
    return any(word in NEGATORS for word in before)


def _numbness(clause: str) -> bool | None:
    match = _NUMB_RE.search(clause)
    if not match:
        return None
    if _negated(clause, match.start()):
        return False
    after = re.findall(r"\w+", clause[match.end():])[:2]
    if after and after[0] in NO | {"gone", "ido"}:
        return False
    return True


def _pain(clause: str) -> int | None:
    for match in _PAIN_RE.finditer(clause):
        raw = match.group(1) or match.group(2)
        value = float(raw.replace(",", "."))
        if 0 <= value <= 10:
            return int(value + 0.5)
    return None


def parse(text: str) -> Answer:
    clean = normalise(text)
    pain: int | None = None
    numb: bool | None = None
    flags: set[str] = set()
    clauses = _clauses(clean)
    for clause in clauses:
        for name, pattern in _FLAG_RES.items():
            for match in pattern.finditer(clause):
                if not _negated(clause, match.start()):
                    flags.add(name)
                    break
        if numb is None or numb is False:
            found = _numbness(clause)
            numb = found if found is not None else numb
        if pain is None:
            pain = _pain(clause)

    done = None
    if _NOT_DONE_RE.search(clean):
        done = 0
    elif _DONE_RE.search(clean):
        count = _COUNT_RE.search(clean)
        if count is None:
            done = 1
        elif "twice" in count.group(0) or "dos veces" in count.group(0):
            done = 2
        else:
            done = min(10, int(next(g for g in count.groups() if g)))

    if pain is None:
        # A bare number is the pain score ("6", "6 N"), unless it counts something ("2 sets", "done 2").
        for clause in (c for c in clauses if not _DONE_RE.search(c) and not _NOT_DONE_RE.search(c)):
            for match in _BARE_NUMBER_RE.finditer(clause):
                value = float(match.group(1).replace(",", "."))
                if 0 <= value <= 10:
                    pain = int(value + 0.5)
                    break
            if pain is not None:
                break

    if numb is None:
        # A lone yes/no answers the numbness question: "6 N", "3, y", "no".
        for clause in clauses:
            words = re.findall(r"\w+", clause)
            if words and words[-1] in YES | NO and (len(words) == 1 or words[-2].replace(".", "").isdigit()
                                                    or words[-2] in ("numb", "numbness", "tingling")):
                numb = words[-1] in YES
                break
    if "limb_numbness" in flags:
        numb = True  # "my left arm is numb" answers the numbness question too
    return Answer(pain=pain, numbness=numb, done=done, flags=frozenset(flags))
