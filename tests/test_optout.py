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
    # might mean it: ask once
    ("can you stop", AMBIGUOUS),
    ("I want to quit", AMBIGUOUS),
    ("stop?", AMBIGUOUS),
    ("no more", AMBIGUOUS),
    ("basta", AMBIGUOUS),
    ("ya no quiero", AMBIGUOUS),
]


@pytest.mark.parametrize(("text", "verdict"), CASES, ids=[c[0] or "empty" for c in CASES])
def test_opt_out_phrases_are_classified_as_a_person_would_read_them(text, verdict):
    assert classify(text) == verdict
