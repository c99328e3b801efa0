"""Pure: a patient's SMS -> what it reports, by a lexicon (data, followup/lexicon.py) and ConText.

The steps, each on the same tokens. Numbers are never rewritten into the text the concepts are
matched on; the fold only spells a few forms as one ("w/o", "S O S", "without being able to",
Spanish "ni" before a verb as "no"; followup/matching.py):
1. tokens, clauses and the concepts found in them (followup/matching.py);
2. medspaCy's ConText marks each match negated, uncertain, hypothetical, historical or about someone
   else (followup/context.py);
3. numbers: pain scores, temperatures, the Y/N and DONE counts (followup/scores.py);
   what drops or denies a match (followup/caveats.py), whose a finding or a temperature is
   (followup/attribution.py), and a phone's reaction sent as text (followup/reactions.py);
4. here: flags by body site, and whatever the reader could not account for, returned so that the
   caller never answers it with a plain thank-you.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .attribution import a_measure, answered_for_self, speaks_of_self, temperature_not_theirs, their_news
from .caveats import (
    AFTER_DENIAL_PAIRS,
    AFTER_DENIALS,
    another_feeling,
    denied_after,
    kept_in_by_outside,
    long_standing_aid,
)
from .context import context_for
from .denials import denied_with, negated_inside, said_normal
from .everyday import is_everyday
from .lexicon import OTHER_LANGUAGE, PLAIN_CONCEPTS, Lexicon, load
from .matching import Doc, Match, find, fold, idioms, tokens
from .reactions import reaction
from .scores import done_count, numbers, yes_no

# Flags that a concept of the same name raises when it is present and not negated (or past, or
# hypothetical, or about someone else). Numbness raises its flag by the body site it names.
FLAG_CONCEPTS = (
    "bladder_bowel",
    "saddle_numbness",
    "both_legs",
    "walking",
    "chest_pain",
    "fall_accident",
    "weakness",
    "fever",
    "night_pain",
    "severe_pain",
    "shooting",
)


FLAGS = FLAG_CONCEPTS + ("limb_numbness",)
# Concepts that no rule flags but that a person must read: a cry for help ("3 N help", "auxilio"),
# and what is felt but is no red flag ("lightheaded", "not right", "stiff legs", "molestia nueva").
# Present, their words are never accounted for, whatever else reads them (an acknowledgement's
# "helps" does not make "help" a thank-you): the clinic reviews the reply and the answer names the
# emergency signs. Denied ("dont need help", "not dizzy") they are an answer like any denial;
# someone else's ("my son needs help with his homework") is read, as no red flag of the patient's.
REVIEW_CONCEPTS = frozenset({"distress", "unwell"})
FLAGS_AND_SITES = frozenset(FLAG_CONCEPTS + ("numbness", "site_back", "site_limb")) | REVIEW_CONCEPTS


@dataclass(frozen=True)
class Reading:
    pain: int | None = None
    numbness: bool | None = None
    done: int | None = None  # None: not mentioned; 0: said they did not
    flags: frozenset[str] = frozenset()
    acknowledged: bool = False  # "thanks", "ok", "feeling better": nothing for anyone to do
    question: bool = False
    unaccounted: tuple[str, ...] = ()  # words the reader could not account for (the clinic reads them)
    chit_chat: bool = (
        False  # everyday words beside the answer ("3 N, long day at work"): read, not understood
    )
    denied: bool = False  # a finding the reply denies ("no chest pain"): an answer too
    temperature: float | None = None
    # Nothing but a Y/N ("yep", "N"): what it answers depends on what the patient was asked.
    yes_no_only: bool = False
    # The pain is a bare number among other words, said neither as pain nor as an answer ("8 N"):
    # "did 8 not 10", "hice 8 de la cabeza", "antes de misa de 7".
    score_unsaid: bool = False

    @property
    def depends_on_the_prompt(self) -> bool:
        return self.yes_no_only or (self.score_unsaid and self.done is not None)

    def as_reply_to_a_reminder(self) -> Reading:
        """What a reply to "time for your exercises, reply DONE" says. A bare Y/N says done or not
        done, not numbness; the bare numbers of an exercise report count the exercises (or tell the
        time), since nothing asked for a score."""
        if self.score_unsaid and self.done is not None:
            return replace(self, pain=None, score_unsaid=False)
        if not self.yes_no_only or self.numbness is None:
            return self
        return replace(
            self,
            numbness=None,
            flags=self.flags - {"limb_numbness"},
            done=1 if self.numbness else 0,
            yes_no_only=False,
        )

    @property
    def understood(self) -> bool:
        return (
            self.pain is not None
            or self.numbness is not None
            or self.done is not None
            or bool(self.flags)
            or self.acknowledged
            or self.denied
        )


_NAME_RE = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-ZÁÉÍÓÚÑ][a-záéíóúñ]{2,})\b")


def _names(text: str) -> set[str]:
    """Capitalised words inside a sentence: names and places ("Houston", "Bake Off"), read as
    chit-chat. Not in a reply written all in capitals, where every word is."""
    if sum(c.isupper() for c in text) > sum(c.islower() for c in text):
        return set()
    return {fold(m.group(1)) for m in _NAME_RE.finditer(text)}


def _asked(words: list[str], lexicon: Lexicon) -> bool:
    """A question mark the patient answers at once is a form's, not a question: "numb? no",
    "bladder ok? yes. chest pain? none"."""
    answers = lexicon.yes | lexicon.no | AFTER_DENIALS
    for i, w in enumerate(words):
        after = words[i + 1 : i + 3]
        if w == "?" and not (
            after[:1]
            and after[0] in answers
            and (len(after) == 1 or not after[1].isalpha())
            or tuple(after) in AFTER_DENIAL_PAIRS
        ):
            return True
    # With no question mark, "es un 2" / "is a 4" says the score: a question start before it asks
    # nothing, unless the score is then judged ("is a 4 normal", "es un 3 normal": the lexicon's
    # `score_judgements`).
    said = (
        words[1:2] and words[1].isdigit() or words[2:3] and words[1] in lexicon.fillers and words[2].isdigit()
    ) and lexicon.score_judgements.isdisjoint(words)
    # ... and only when it is the reply's one number: "is a 2 now, was a 8 last night" asks.
    said = said and sum(w[0].isdigit() for w in words) == 1
    return words[0] in lexicon.question_starts and not said


def _read_one(
    text: str, lexicon: Lexicon
) -> tuple[Reading, set[str], dict[str, set[str]], set[str], set[str], set[str]]:
    """The reading, the words left unaccounted, for each flag a finding raised its words, the words
    of findings about someone else, and the words a person must read whatever the other language
    makes of them (those, and a cry for help's)."""
    words = tokens(text, lexicon)
    if not words:
        return Reading(), set(), {}, set(), set(), set()
    doc = Doc(words, lexicon)
    found = [m for m in find(doc) if not another_feeling(doc, m)]
    # A walking aid used for years, or a walk the weather prevented, is read, and is no finding:
    # "same cane as before", "no pude caminar al parque porque llovió".
    aided = {p for m in found if long_standing_aid(doc, m) or kept_in_by_outside(doc, m) for p in m.positions}
    matches = [m for m in found if not aided.issuperset(m.positions)]
    # A finding whose every word is inside everyday phrases ("on my feet all day", "a long walk";
    # "dropped off my car ... walked home") is those phrases: the words are used in their everyday sense.
    everyday = {p for m in matches if m.concept == "everyday" for p in m.positions}
    if everyday:
        matches = [
            m for m in matches if m.concept not in FLAGS_AND_SITES or not everyday.issuperset(m.positions)
        ]
    statuses, covered, past = (
        context_for(lexicon.programme, lexicon.language)(doc, matches) if matches else ([], set(), set())
    )
    present: dict[str, list[Match]] = {}
    negated: dict[str, list[Match]] = {}
    chat = set(past) | aided  # everyday phrases ("got back from work", "a long walk"), the past
    theirs: set[str] = set()
    their_cry = False  # someone else's cry for help: read by a person even beside news of theirs
    their_positions: set[int] = set()
    flagged = {  # the words a person must read, whatever else reads them (REVIEW_CONCEPTS)
        p
        for match, status in zip(matches, statuses)
        if match.concept in REVIEW_CONCEPTS and status == "present" and not negated_inside(doc, match)
        for p in match.positions
    }
    statuses = [
        "negated"
        if status == "present"
        and (match.concept in FLAG_CONCEPTS or match.concept == "numbness")
        and denied_after(doc, match)
        else status
        for match, status in zip(matches, statuses)
    ]
    for match, status in zip(matches, statuses):
        if status == "present" and match.concept in FLAGS_AND_ACKS and negated_inside(doc, match):
            if match.concept == "ack":
                continue  # "walking not fine", "bladder not ok": no acknowledgement, its words unread
            status = "negated"
        if match.concept == "ack" and flagged.intersection(match.positions):
            continue  # "please help": the "help" of "stretching helps" is no thank-you here
        if match.concept in REVIEW_CONCEPTS and status == "present":
            continue  # left for the clinic (below)
        if status == "present":
            present.setdefault(match.concept, []).append(match)
        elif status == "negated":
            negated.setdefault(match.concept, []).append(match)
        if match.concept == "everyday":
            chat.update(match.positions)
        elif status == "someone else" and (
            match.concept in FLAG_CONCEPTS or match.concept in REVIEW_CONCEPTS
        ):
            # A red flag of someone else's ("mi papá dice que le duele el pecho") raises nothing, but
            # the reply may be a relative's for the patient: a person reads it. So does a cry for
            # help for someone else ("my husband needs help"): the husband may be the patient.
            theirs.update(words[p] for p in match.positions)
            their_positions.update(match.positions)
            their_cry |= match.concept in REVIEW_CONCEPTS
            continue
        elif status == "someone else" and match.concept.startswith("site_"):
            their_positions.update(match.positions)  # "my son broke his arm": told of, not felt
        elif not match.concept.startswith("site_"):
            covered.update(match.positions)
            covered.update(match.related)
            if status == "negated" and match.concept not in PLAIN_CONCEPTS:
                covered.update(denied_with(doc, match))
    # A body site is read when something in its clause is ("numb fingers"); alone ("my hand feels
    # weird") it is left for the clinic.
    read_clauses = {
        m.clause for m in matches if not m.concept.startswith("site_") and m.concept != "everyday"
    }
    covered.update(
        p for m in matches if m.concept.startswith("site_") and m.clause in read_clauses for p in m.positions
    )

    covered |= doc.excluded | idioms(doc)
    pain, temperature, number_positions, score_said = numbers(doc)
    covered |= number_positions
    # "back is a 3", "neck 4": the site of the pain the score gives, where the programme expects it.
    score_clauses = {doc.clause[i] for i in number_positions if pain is not None}
    covered.update(
        p for m in matches if m.concept == "site_back" and m.clause in score_clauses for p in m.positions
    )
    # "my right ankle is a little sore", "me duele la rodilla": beside a score, a limb that hurts is
    # where a pain is, read by the score; numbness, weakness or a red flag there are findings of
    # their own, matched as themselves.
    if pain is not None:
        hurting = {
            doc.clause[i] for i, w in enumerate(words) if w in lexicon.pain_words and w not in lexicon.fillers
        }
        covered.update(
            p for m in matches if m.concept == "site_limb" and m.clause in hurting for p in m.positions
        )
    said_normal(doc, present, negated, covered, (*FLAG_CONCEPTS, "numbness"))
    flags = {name for name in FLAG_CONCEPTS if present.get(name)}
    if (
        temperature is not None
        and (temperature >= 37.8 and temperature < 45 or temperature >= 100)
        and not temperature_not_theirs(
            doc, temperature, matches, statuses, past, pain is not None, frozenset(_names(text))
        )
    ):
        flags.add("fever")
    if present.get("temperature") and temperature is None and not a_measure(doc, present["temperature"]):
        flags.add("fever")  # "I have a temperature"; not "34 degrees" (the weather)

    numb_positions = {
        p for m in present.get("numbness", []) + negated.get("numbness", []) for p in m.positions
    }
    answer, yn_positions = yes_no(doc, number_positions, numb_positions)
    covered |= yn_positions
    numbness: bool | None = None
    if (
        answer is False
        and numb_positions
        and any(p + 1 in yn_positions or p + 2 in yn_positions for p in numb_positions)
    ):
        present.pop("numbness", None)  # "numb? no", "tingling: no"
    if present.get("numbness") or flags & {"saddle_numbness"}:
        numbness = True
    elif answer is not None:
        numbness = answer
    elif negated.get("numbness"):
        numbness = False
    for match in present.get("numbness", []):
        same_clause = {m.concept for ms in present.values() for m in ms if m.clause == match.clause}
        if "saddle_numbness" in same_clause or (
            "site_back" in same_clause and "site_limb" not in same_clause
        ):
            continue  # around the groin (E1), or between the shoulder blades: not in an arm or leg (S3)
        flags.add("limb_numbness")
    if answer is True and not present.get("numbness"):
        flags.add("limb_numbness")  # the check-in asks about the arms and legs: a Y is a first report

    if pain is None and present.get("pain_zero"):
        pain = 0
    if pain is not None or present.get("pain_zero"):
        covered.update(i for i, w in enumerate(words) if w in lexicon.pain_words)

    question = _asked(words, lexicon) or bool(present.get("question"))
    leftover = {
        w for i, w in enumerate(words) if i not in covered and w.isalpha() and w not in lexicon.fillers
    }
    chatted = {w for i, w in enumerate(words) if i in chat and i not in covered}
    unaccounted = {w for w in leftover - chatted if not is_everyday(lexicon, w)}
    if unaccounted:
        unaccounted -= _names(text)
    # "called 911", "llamé al 911": whatever it was, a person reads it.
    unaccounted |= {w for w in words if w in _EMERGENCY_NUMBERS}
    # A cry for help, or what is felt but no rule flags: a person reads it (REVIEW_CONCEPTS).
    kept = {words[p] for p in flagged if words[p].isalpha() and words[p] not in lexicon.fillers} or {
        words[p] for p in flagged if words[p].isalpha()
    }
    unaccounted |= kept
    # Someone else's red flag is read by a person, whatever its words are on their own ("se cayó"),
    # unless the writer answered for themselves beside it: "my son has a fever, me 2 N".
    if (
        pain is not None
        and their_positions
        and (answered_for_self(words, number_positions) or not their_cry and their_news(doc, their_positions))
    ):
        # The rest of a clause about them, and the clauses after it, are their news too ("a mi
        # suegra le dio un infarto, está en el hospital"), until the writer speaks of themselves.
        people = lexicon.kin | lexicon.others_news
        mine = {doc.clause[i] for i in range(len(words)) if speaks_of_self(words, i, people)}
        theirs_told: set[int] = set()
        for clause in sorted({doc.clause[p] for p in their_positions}):
            while clause not in mine and clause in doc.clause:
                theirs_told.add(clause)
                clause += 1
        told = their_positions | {i for i in range(len(words)) if doc.clause[i] in theirs_told}
        unaccounted -= {words[p] for p in told} - {words[p] for p in flagged}
        theirs = set()
    unaccounted |= {w for w in theirs if w.isalpha() and w not in lexicon.fillers}
    reading = Reading(
        pain=pain,
        numbness=numbness,
        done=done_count(doc, present, negated),
        flags=frozenset(flags),
        acknowledged=bool(present.get("ack")),
        question=question,
        chit_chat=bool(leftover),
        denied=any(name not in PLAIN_CONCEPTS and name not in present for name in negated),
        unaccounted=tuple(w for w in words if w in unaccounted),
        temperature=temperature,
        yes_no_only=bool(yn_positions)
        and all(i in yn_positions or not w[0].isalnum() for i, w in enumerate(words)),
        score_unsaid=pain is not None and not score_said and not present.get("pain_zero"),
    )
    # The words of each finding, so that the other language's reading cannot make someone else's
    # finding the patient's ("my son has chest pain").
    grounds = {
        name: {words[p] for m in present.get(name, []) for p in m.positions}
        for name in (*FLAG_CONCEPTS, "numbness")
        if present.get(name)
    }
    if "limb_numbness" in flags:
        grounds["limb_numbness"] = grounds.pop("numbness", set())
    # The words of findings read as denied, past or hypothetical: the other language's reading of
    # the same words ("legs numb" with no "when I was pregnant" in Spanish) is no finding either.
    judged = {words[p] for m, s in zip(matches, statuses) if s in ("negated", "other") for p in m.positions}
    judged -= {words[p] for ms in present.values() for m in ms for p in m.positions}
    return reading, unaccounted, grounds, theirs, theirs | kept, judged


FLAGS_AND_ACKS = FLAGS_AND_SITES | {"ack"}
_EMERGENCY_NUMBERS = frozenset({"911", "999", "112"})


def read(text: str, language: str = "en", programme: str = "upper-back") -> Reading:
    """What a reply reports. Words the patient's language cannot account for are read in the other
    language too (people switch); a flag either finds counts, and only words neither accounts for
    are left for the clinic."""
    lexicon = load(programme, language if language in OTHER_LANGUAGE else "en")
    foreign = load(programme, OTHER_LANGUAGE[lexicon.language])
    folded = " ".join(fold(text).split())
    reacted = reaction(folded, lexicon) or reaction(folded, foreign)  # a phone may be in either language
    if reacted and reacted.startswith("emoji:"):
        return read(reacted.removeprefix("emoji:"), language, programme)  # what the emoji says alone
    if reacted:  # "unanswered": nothing understood, so asked again and reviewed
        return Reading(acknowledged=reacted == "ack", question=reacted == "question")
    reading, unaccounted, _, theirs, kept, judged = _read_one(text, lexicon)
    if not unaccounted:
        return reading
    other, other_unaccounted, grounds, _, _, _ = _read_one(text, foreign)
    # Words of someone else's finding ("my son has a fever") are no finding of the patient's in
    # either language: they stay for the clinic, and the other language's flag on them is dropped.
    if len(other_unaccounted) >= len(unaccounted):
        # Not written in the other language. Its everyday words, and no symptom word of this one,
        # are chit-chat: "4 N, today fue un dia busy en el job".
        # Its words for pain beside a score ("pain 2, todo bien"), and its fillers ("I'm a 2"), are
        # read as this language's would be.
        switched = foreign.fillers | (foreign.pain_words if reading.pain is not None else frozenset())
        left = {
            w
            for w in unaccounted
            if w in kept
            or w not in switched
            and (
                w in lexicon.clinical
                or lexicon.stem(w) in lexicon.clinical
                or w in foreign.clinical
                or not is_everyday(foreign, w)
            )
        }
        if left == unaccounted:
            return reading
        return replace(reading, unaccounted=tuple(w for w in reading.unaccounted if w in left))
    left = unaccounted & other_unaccounted
    return Reading(
        pain=reading.pain if reading.pain is not None else other.pain,
        numbness=reading.numbness if reading.numbness is not None else other.numbness,
        done=reading.done if reading.done is not None else other.done,
        flags=reading.flags
        | {
            name
            for name in other.flags
            if not grounds.get(name, set()) & theirs
            and not (grounds.get(name) and grounds[name] <= judged | lexicon.chit_chat_named)
        },
        acknowledged=reading.acknowledged or other.acknowledged,
        question=reading.question or other.question,
        chit_chat=reading.chit_chat,
        denied=reading.denied,
        unaccounted=tuple(w for w in reading.unaccounted if w in left or w in kept),
        temperature=reading.temperature if reading.temperature is not None else other.temperature,
        yes_no_only=reading.yes_no_only and other.yes_no_only,
        score_unsaid=reading.score_unsaid if reading.pain is not None else other.score_unsaid,
    )
