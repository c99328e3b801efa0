"""The opt-out phrase classifier (followup/optout.py): what unsubscribes, what must not, what asks."""

import pytest

from followup.optout import AMBIGUOUS, STOP, classify

CASES = [
    # FCC 24-24 names "opt out"; revocation "by any reasonable means" (issue 15, finding 4)
    ("Opt out", STOP),
    ("opt-out", STOP),
    ("OPT ME OUT", STOP),
    ("stop texting me", STOP),
    ("Please stop", STOP),
    ("stop please!", STOP),
    ("no more texts", STOP),
    ("Please unsubscribe me", STOP),
    ("Stop sending me these messages", STOP),
    ("don't text me anymore", STOP),
    ("take me off your list", STOP),
    ("my pain is better, please stop texting me", STOP),  # about the messages, whatever else it says
    ("PARAR", STOP),
    ("BAJA", STOP),
    ("CANCELAR", STOP),
    ("No más mensajes", STOP),
    ("quiero darme de baja", STOP),
    ("Dejen de enviarme mensajes", STOP),
    ("no me envíen más", STOP),
    # verb + messages, negated or stopped (review of issue 15, 2)
    ("ya no me manden mensajes", STOP),
    ("ya no me manden mensajes por favor", STOP),
    ("no me envíen mensajes", STOP),
    ("paren los mensajes", STOP),
    ("ya no quiero mensajes", STOP),
    ("please don't send me any more messages", STOP),
    ("I don't want texts anymore", STOP),
    ("please don't message me again", STOP),
    ("opt out of the texts", STOP),
    # about pain, numbness, exercises or an appointment: never an opt-out
    ("the pain won't stop", None),
    ("The pain doesn't stop at night", None),
    ("I can't stop the tingling", None),
    ("had to stop the exercises, they hurt", None),
    ("cancel my appointment", None),
    ("el dolor no para", None),
    ("cancelar la cita", None),
    ("nonstop pain 7", None),
    ("no more numbness", None),
    ("6 N", None),
    ("done", None),
    ("", None),
    # ordinary replies that name a list, a time or a session: the reader reads their pain score
    ("take me off the 3pm appointment, pain 2", None),
    ("remove me from Thursday's class list, pain 3 N", None),
    ("I will opt out of the group session", None),
    ("don't text me before 9", None),
    ("don't send me messages before 9 am", None),
    ("no me manden mensajes antes de las 9", None),
    ("thanks for the messages", None),
    # might mean it: ask once
    ("can you stop", AMBIGUOUS),
    ("I want to quit", AMBIGUOUS),
    ("stop?", AMBIGUOUS),
    ("no more", AMBIGUOUS),
    ("basta", AMBIGUOUS),
    ("ya no quiero", AMBIGUOUS),
    ("Stop it please", AMBIGUOUS),
]


@pytest.mark.parametrize(("text", "verdict"), CASES, ids=[c[0] or "empty" for c in CASES])
def test_opt_out_phrases_are_classified_as_a_person_would_read_them(text, verdict):
    assert classify(text) == verdict
