"""Pure: medspaCy's ConText over a reply's concepts: negated, uncertain, hypothetical, historical,
or about someone else, by triggers kept in the lexicon (Spanish has its own).

spaCy and medspaCy take a second to import: only a process that reads a reply pays for it.
"""

from __future__ import annotations

from functools import cache

from .lexicon import PLAIN_CONCEPTS, Lexicon, load
from .matching import INHERENTLY_NEGATIVE, Doc, Match, has_phrase


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
        self.context.add(self._rules(lexicon.context_rules, ConTextRule))

    def _rules(self, rules: tuple[dict, ...], ConTextRule) -> list:  # noqa: N803 (a class)
        """A rule that is its literal word by word goes to spaCy's PhraseMatcher (a hash look-up per
        token) instead of the Matcher (every pattern's state machine at every token): most rules are
        plain, and the Matcher was a sixth of a reading. Not when spaCy's tokenizer splits the
        literal otherwise than we do ("havent"), nor when another rule matches the same words: of
        two matches on one span medspaCy keeps the first it was given, so those stay together in the
        lexicon's order ("no" forward, and "no" backward before an optional full stop)."""
        from spacy.matcher import Matcher  # noqa: PLC0415

        every = Matcher(self.nlp.vocab)
        for k, rule in enumerate(rules):
            every.add(str(k), [rule["pattern"]])
        out = []
        for k, rule in enumerate(rules):
            words = [t.text for t in self.nlp.tokenizer(rule["literal"].lower())]
            if rule["pattern"] == [{"LOWER": w} for w in words]:
                alone = self._Doc(self.nlp.vocab, words=words)
                rivals = {
                    self.nlp.vocab.strings[key]
                    for key, start, end in every(alone)
                    if (start, end) == (0, len(words))
                }
                if rivals == {str(k)}:
                    rule = {**rule, "pattern": None}
            out.append(ConTextRule(**rule))
        return out

    def __call__(self, doc: Doc, matches: list[Match]) -> tuple[list[str], set[int], set[int]]:
        """Each match's status ('present', 'negated', 'someone else', or 'other': past or
        hypothetical), the tokens the triggers cover, and the tokens in the scope of a history
        trigger."""
        sent_starts = [i == 0 or doc.clause[i] != doc.clause[i - 1] for i in range(len(doc.words))]
        sdoc = self._Doc(
            self.nlp.vocab, words=doc.words, spaces=[True] * len(doc.words), sent_starts=sent_starts
        )
        spans = [self._Span(sdoc, m.start, m.end, label=m.concept.upper()) for m in matches]
        sdoc.spans["concepts"] = spans
        self.context(sdoc)
        graph = sdoc._.context_graph
        graph_modifiers = list(graph.modifiers) if graph is not None else []
        statuses = []
        said_fine: list[bool] = []  # negated only by "fine", "ok", "normal" after it
        is_relayed = relayed(doc)
        for span, match in zip(spans, matches):
            # medspaCy lets a trigger inside a target modify it (its overlap test misses containment):
            # the "doesnt" of "resting doesnt help" is part of the finding, not a negation of it.
            outside = [
                m
                for m in span._.modifiers
                if not (span.start <= m.modifier_span[0] and m.modifier_span[1] <= span.end)
            ]
            outside = [m for m in outside if _counts(doc, match, m)]
            categories = {m.category for m in outside}
            denials = [m for m in outside if m.category == "NEGATED_EXISTENCE"]
            said_fine.append(bool(denials) and all(m.rule.literal in _FINE_ANY for m in denials))
            if "NEGATED_EXISTENCE" in categories and not _negative_in_itself(doc, match, outside):
                statuses.append("negated")
            elif match.concept not in PLAIN_CONCEPTS and _lends_its_negation(
                span, spans, graph_modifiers, set(match.positions), [set(m.positions) for m in matches]
            ):
                # (an acknowledgement whose "normal" negates the finding it names is that denial,
                # and stays an acknowledgement: "bladder and bowels normal")
                statuses.append("negated")
            elif categories & {"HYPOTHETICAL", "HISTORICAL"}:
                statuses.append("other")
            elif (
                not is_relayed
                and _a_relatives_own(doc, match)
                or (
                    "FAMILY" in categories
                    and not is_relayed
                    and not any(doc.words[i] in _FIRST_PERSON for i in match.positions)
                    and not any(
                        w in _WRITER for w in doc.words[match.start : match.end]
                    )  # "...so are mine, both"
                    and not _done_to_me(doc, match, outside)
                )
            ):
                statuses.append(
                    "someone else"
                )  # "my husband had to help me up": the "me" makes it the patient's
            else:
                statuses.append("present")  # uncertain stays present: when in doubt, the higher tier
        # "both legs are fine except the tingling", "fine I guess, just numb and heavy": a part said
        # to be fine, and a symptom reported beside it, is that part's symptom after all.
        felt = any(
            status == "present" and match.concept in _SAID_FINE_UNDONE_BY
            for match, status in zip(matches, statuses)
        )
        if felt:
            statuses = [
                "present" if status == "negated" and fine and match.concept not in PLAIN_CONCEPTS else status
                for match, status, fine in zip(matches, statuses, said_fine)
            ]
        if not is_relayed:
            statuses = [
                "someone else" if status == "present" and _their_and(doc, match, graph_modifiers) else status
                for match, status in zip(matches, statuses)
            ]
        past_clauses = _history_across_commas(doc, matches, graph_modifiers)
        statuses = [
            "other" if status == "present" and match.clause in past_clauses else status
            for match, status in zip(matches, statuses)
        ]
        covered: set[int] = set()
        graph = sdoc._.context_graph
        for modifier in graph.modifiers if graph is not None else ():
            start, end = modifier.modifier_span
            covered.update(range(start, end))
        # The tokens in the scope of a history trigger ("broke my wrist as a kid", "hace 10 años me
        # fracturé el brazo"): the patient's past, chit-chat for the reader, not unread words.
        past = {
            i
            for m in (graph.modifiers if graph is not None else ())
            if m.category == "HISTORICAL"
            for i in range(*m.scope_span)
        } | {i for i, clause in enumerate(doc.clause) if clause in past_clauses}
        return statuses, covered, past


# "my husband has a UTI and was up all hours running to the bathroom": after "and", a verb with no
# subject of its own goes on telling of the relative, though "and" ends ConText's scope.
_SUBJECTLESS = frozenset(
    {"was", "is", "has", "had", "keeps", "kept", "got", "gets", "went", "goes", "cant", "couldnt", "needs"}
    | {"needed", "started", "wont", "doesnt", "didnt", "fell", "passed", "ended", "been", "now"}
)


def _their_and(doc: Doc, match: Match, modifiers) -> bool:
    words = doc.words
    for m in modifiers:
        if m.category != "FAMILY":
            continue
        start = m.modifier_span[0]
        if (
            any(doc.clause[j] == doc.clause[start] for j in range(max(0, start - 2)))
            or start > 0
            and (words[start - 1] in _FIRST_PERSON or words[start - 1] in _WRITER)
        ):
            continue  # the relative opens the clause as its subject, not "I tripped over the dog and..."
        a = m.scope_span[1]  # where the relative's scope ended
        if not (
            a < match.start and a + 1 < len(words) and words[a] == "and" and words[a + 1] in _SUBJECTLESS
        ):
            continue
        if doc.clause[a] != doc.clause[match.start] and -1 in doc.clause[a : match.start]:
            continue  # a sentence or clause break between: the writer may be speaking again
        if any(words[j] in _WRITER or words[j] in _FIRST_PERSON for j in range(a, match.end)):
            continue  # "...and now my legs are numb": the writer's own
        return True
    return False


_MY_OUR = frozenset({"my", "our"})
_WRITER = frozenset({"i", "im", "me", "mine", "myself", "ive", "id", "too", "also"})


def _a_relatives_own(doc: Doc, match: Match) -> bool:
    """A finding that starts with a relative's body part is theirs (unless the reply is a relay,
    which the caller checks): "my husbands legs gave out",
    "our dogs back legs" (ConText cannot see it: its trigger would overlap the finding). A relative's
    walking aid is not this ("my husband's cane"): only a body part begins a finding here. Not "his" or
    "her" after a relative: tried in the thirteenth round, it took an urgent weakness from an unseen
    set (a relative writing for the patient may well say "her hand")."""
    i = match.start
    if i < 2 or doc.words[i - 2] not in _MY_OUR:
        return False
    # "my wifes legs are fine but mine are both numb", "our dogs back legs are weak and so are
    # mine": the writer's own are in it too; "my husbands legs are numb, hes the patient"
    clause = doc.clause[i]
    if "patient" in doc.words or any(
        w in _WRITER
        for j, w in enumerate(doc.words)
        if i <= j < match.end or j > i and doc.clause[j] == clause
    ):
        return False
    kin = doc.words[i - 1]
    lexicon = doc.lexicon
    return (
        kin.endswith("s")
        and (kin[:-1] in lexicon.kin or kin[:-1] in lexicon.others_news)
        and doc.words[i] in _BODY
    )


_BODY = frozenset(
    {
        *("leg", "legs", "foot", "feet", "knee", "knees", "thigh", "thighs", "toes", "hip", "hips", "back"),
        *("arm", "arms", "hand", "hands", "fingers", "shoulder", "shoulders", "neck", "head", "chest"),
        *("heart", "bladder", "bowels"),
    }
)

_NOT_SO = frozenset({"not", "hasnt", "havent", "isnt", "arent", "never", "no", "from"})  # "far from fine"
_SAID_FINE_UNDONE_BY = frozenset({"numbness", "weakness"})
_SAID_FINE = {"ok", "okay", "fine", "normal", "all good", "alright", "good"}
_FINE_ANY = frozenset(_SAID_FINE | {"bien", "normales", "bn", "perfecto", "perfectas"})

# "so I stopped", "we quit": a patient who stops doing something says nothing of the finding.
_SUBJECTS = {"i", "we", "yo", "nosotros"}


def _counts(doc: Doc, match: Match, modifier) -> bool:
    """Whether a trigger ConText found modifies this finding, by what medspaCy's rules cannot say."""
    lexicon, words = doc.lexicon, doc.words
    start, end = modifier.modifier_span
    if (
        modifier.category == "NEGATED_EXISTENCE"
        and words[start] in ("without", "sin")
        and any(
            words[q] in _CANT
            or (words[q] == "no" and words[q + 1 : q + 2] in (["puedo"], ["puede"], ["pude"]))
            for q in range(start)
            if doc.clause[q] == doc.clause[start]
        )
    ):
        return False  # "cant go a day without tylenol for the fever": a double negative, the fever is there
    if modifier.category == "NEGATED_EXISTENCE" and modifier.direction == "BACKWARD":
        if start > 0 and words[start - 1] in _NOT_SO:
            return False  # "fever not gone", "chest pain hasnt gone": what is not gone is there
        if modifier.rule.literal in _SAID_FINE and lexicon.functions:
            # "bladder fine", "chest ok": a part or function said to be fine. "chest pain ok", "wet
            # myself 👍", "fell ok" report the symptom and then say something else is ok.
            between = words[match.end : start]
            return all(words[i] in lexicon.functions for i in match.positions) and not any(
                w in lexicon.clinical and w not in lexicon.functions for w in between
            )
        return not (start > 0 and words[start - 1] in _SUBJECTS)
    if modifier.category == "HISTORICAL":
        clause = [w for i, w in enumerate(words) if doc.clause[i] == match.clause]
        return not any(has_phrase(clause, phrase) for phrase in lexicon.recent_words)
    if modifier.category == "HYPOTHETICAL" and modifier.rule.literal in lexicon.question_if:
        return "?" in words or words[0] in lexicon.question_starts
    return True


# Words that carry an earlier negative on ("no siento nada dormido, ni en las nalgas"), not negatives
# of their own.
_CONCORD = frozenset({"ni", "nada", "nothing", "nor"})


def _history_across_commas(doc: Doc, matches: list[Match], modifiers) -> set[int]:
    """A history said in a clause of its own, after a finding told in the past, dates that finding:
    "I had a bladder problem after my second baby, 20 years ago, nothing since". Only the clause
    just before it, and only one with a past verb (the lexicon's `past_markers`): a history before
    a finding ("10 years ago, same thing happened, cant feel my legs") says nothing of when the
    finding is, and "cant feel my legs, 10 years ago" is no past. Not across "but", nor in a
    sentence that speaks of now ("...and now again")."""
    words, clause = doc.words, doc.clause
    alone = set()
    for m in modifiers:
        start, end = m.modifier_span
        if m.category != "HISTORICAL" or clause[start] == -1:
            continue
        rest = [  # the clause's other words: none but fillers and numbers ("20 years ago,")
            w
            for i, w in enumerate(words)
            if clause[i] == clause[start]
            and not start <= i < end
            and not (w in doc.lexicon.fillers or w[0].isdigit())
        ]
        if not rest:
            alone.add(clause[start])
    alone -= {m.clause for m in matches if m.concept not in PLAIN_CONCEPTS}
    if not alone:
        return set()
    # The words between clause k and k + 1.
    between: dict[int, list[str]] = {}
    for i, c in enumerate(clause):
        if c == -1:
            before = [clause[j] for j in range(i) if clause[j] >= 0]
            between.setdefault(max(before or [0]), []).append(words[i])

    def joined(k: int) -> bool:  # clauses k and k + 1 are one sentence, joined by a comma
        return all(w == "," for w in between.get(k, ["."]))

    def sentence_of(k: int) -> list[str]:
        first = last = k
        while first - 1 >= 0 and joined(first - 1):
            first -= 1
        while joined(last) and last + 1 <= max(clause):
            last += 1
        return [w for i, w in enumerate(words) if first <= clause[i] <= last]

    reached: set[int] = set()
    lexicon = doc.lexicon
    for start in alone:
        told = start - 1
        if told < 0 or not joined(told):
            continue
        told_words = [w for i, w in enumerate(words) if clause[i] == told]
        if not any(has_phrase(told_words, phrase) for phrase in lexicon.past_markers):
            continue
        if any(
            has_phrase(sentence_of(start), phrase) for phrase in lexicon.recent_words | lexicon.ongoing_words
        ):
            continue
        reached |= {start, told}
    return reached


def _lends_its_negation(span, spans, modifiers, mine: set[int], positions: list[set[int]]) -> bool:
    """ "my hands dont tingle": the "dont" that a weakness pattern ("hands" + "dont") took for a
    failing hand negates the tingling. A match whose negative word negates another finding in its
    clause is that negation, not a symptom of its own."""
    inside = [
        m
        for m in modifiers
        if m.category == "NEGATED_EXISTENCE"
        and span.start <= m.modifier_span[0]
        and m.modifier_span[1] <= span.end
    ]
    for modifier in inside:
        for other, theirs in zip(spans, positions):
            if other is span or other.label_.lower() in PLAIN_CONCEPTS or other.label_ == span.label_:
                continue  # the same finding matched twice ("bladder", "not in control of my bladder")
            if other.start <= modifier.modifier_span[0] < other.end:
                continue  # the word belongs to the other finding too
            if theirs <= mine:
                continue  # a finding that is this one's own words: "nada dormido excepto los pies"
            if any(
                w in INHERENTLY_NEGATIVE and w not in _CONCORD
                for w in other.doc[max(other.start, modifier.modifier_span[1]) : other.end].text.split()
            ):
                continue  # a negative finding of its own: "havent peed ... and i dont even feel the need"
            if modifier in other._.modifiers:
                return True
    return False


# "yo igual que siempre": the writer as ever, not "me too" ("yo igual")
_EVER = frozenset({"siempre", "antes", "ayer", "costumbre", "usual"})


def _same_as_ever(words: list[str], end: int, relay: tuple[str, ...]) -> bool:
    return (
        relay[-1] == "igual"
        and words[end : end + 1] in (["que"], ["de"])
        and words[end + 1 : end + 2] in [[w] for w in _EVER]
    )


def relayed(doc: Doc) -> bool:
    """ "mi esposo dice que le diga...", "my daughter is writing for me": a relative writes for the
    patient, so what they say of the relative is the patient's finding (when in doubt, the higher
    tier). A bare verb of saying ("says", "dice", the lexicon's `kin_relays`) relays only after a
    relative ("my husband says..."), not after a friend or a neighbour."""
    words = doc.words
    firsts = {relay[0] for relay in doc.lexicon.relays}
    for i, word in enumerate(words):
        if word in firsts:
            for relay in doc.lexicon.relays:
                if (
                    tuple(words[i : i + len(relay)]) == relay
                    and not _same_as_ever(words, i + len(relay), relay)
                    and (
                        # a relative says it ("my husband says", "Mom fell... she says 6"), not
                        # someone else after them ("my brother fainted, they said dehydrated")
                        relay not in doc.lexicon.kin_relays
                        or (
                            any(w in doc.lexicon.kin for w in words[:i])
                            and (i == 0 or words[i - 1] not in _OTHER_SAYERS)
                        )
                    )
                ):
                    return True
    return False


# "cant go a day without tylenol for the fever": after one of these, "without" is no denial
_CANT = frozenset({"cant", "cannot", "couldnt", "unable", "wont", "wouldnt", "impossible", "imposible"})

# "mi hija me encontró tirada en el suelo", "my son found me on the floor", "helped me up": what a
# relative did to the patient ("me pregunta si me he caído" asks; "se me subió" is the cat's).
_DONE_TO_ME = frozenset(
    {"found", "helped", "picked", "lifted", "caught", "carried", "drove", "took", "held", "dragged"}
    | {"encontro", "encontraron", "levanto", "levantaron", "ayudo", "ayudaron", "llevo", "llevaron"}
    | {"cargo", "cargaron", "sostuvo", "agarro", "recogio", "recogieron", "arrastro"}
)


def _done_to_me(doc: Doc, match: Match, modifiers) -> bool:
    """Someone else did it to the writer: "my son had to help me up", "someone reversed into me",
    "a guy rear ended my car"."""
    words = doc.words
    if (
        match.end < len(words)
        and words[match.end] in ("me", "myself", "my", "us", "mi", "nos")
        and any(m.category == "FAMILY" for m in modifiers)
    ):
        return True
    for m in modifiers:
        if m.category == "FAMILY":
            for i in range(m.modifier_span[1], match.start):
                near = words[max(0, i - 1) : i + 2]
                if words[i] in _DONE_TO_ME and any(w in ("me", "myself") for w in near):
                    return True
    return False


_OTHER_SAYERS = frozenset(
    {"they", "we", "you", "doctor", "doc", "dr", "nurse", "doctors", "nurses", "paramedics", "medics"}
    | {"ellos", "ellas", "ustedes", "doctora", "medico", "medica", "enfermera", "enfermero"}
)
_FIRST_PERSON = {"me", "my", "i", "im", "ive", "myself", "mi", "mis", "yo", "tengo", "estoy", "siento"}


_AFTERWARDS = {"anymore", "any more", "no longer", "ya no", "no more"}


def _negative_in_itself(doc: Doc, match: Match, modifiers) -> bool:
    """ "I can't feel my legs anymore" is a symptom: when the match is itself a negative ("cant feel",
    "no control"), a trailing "anymore" says it is new, not that it is gone."""
    if not any(doc.words[i] in INHERENTLY_NEGATIVE for i in match.positions):
        return False
    # Nor does a trailing "fine"/"bien": "la mano no me obedece bien" (does not obey well). Nor a
    # negative after the finding's own: "sin fuerza para agarrar nada", "cant feel anything" say
    # the finding twice (negative concord), they do not deny it.
    negators = [m for m in modifiers if m.category == "NEGATED_EXISTENCE"]
    return all(
        m.rule.literal in _AFTERWARDS or m.direction == "BACKWARD" or m.modifier_span[0] > match.start
        for m in negators
    )


@cache
def context_for(programme: str, language: str) -> _ConText:
    return _ConText(load(programme, language))
