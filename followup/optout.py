"""Opt-out in ordinary words, English and Spanish: a pure, table-driven classifier.

FCC 24-24 (47 CFR 64.1200(a)(10), in force since 2025-04-11) requires a revocation of consent "by
any reasonable means" to be honoured, and names "opt out" among the keywords. Twilio answers only
its one-word keywords (STOP, UNSUBSCRIBE, ... OPTOUT) by itself, so phrases such as "please stop
texting me" or "no más mensajes" are followup's to catch. Pain is the subject of most replies, so
the table also says what is *not* an opt-out: "the pain won't stop" must never unsubscribe anyone.

classify(text) -> "stop" (opt out now), "ambiguous" (one "Reply STOP to stop all messages" and a
review) or None (not about the messages: the reader takes it).
"""

from __future__ import annotations

import re
import unicodedata

STOP, AMBIGUOUS = "stop", "ambiguous"

# The whole message, once normalised (lower case, no accents, no punctuation).
WHOLE: dict[str, tuple[str, ...]] = {
    "en": (
        "stop",
        "please stop",
        "stop please",
        "stop it",
        "stop now",
        "stop all",
        "stop this",
        "opt out",
        "opt-out",
        "unsubscribe me",
    ),
    "es": ("parar", "para ya", "baja", "de baja", "cancelar", "alto ya", "ya basta de mensajes"),
}
# Anywhere in the message: phrases that are about the messages themselves, so they count even beside
# words about pain ("pain is better, please stop texting me").
ABOUT_MESSAGES: dict[str, tuple[str, ...]] = {
    "en": (
        r"\bopt(?: me)?[ -]?out\b",
        r"\bunsubscribe\b",
        r"\bstop (?:texting|messaging|sending|contacting|emailing)\b",
        r"\bstop (?:the|these|all|your|those) (?:texts|messages|reminders|sms)\b",
        r"\bstop all messages\b",
        r"\bno more (?:texts|messages|reminders|sms|texting)\b",
        r"\b(?:don't|do not|dont) (?:text|message|contact|sms) me\b",
        r"\b(?:remove|take) me off\b",
        r"\bremove me from\b",
        r"\b(?:don't|do not|dont) want (?:these|the|any|your) (?:texts|messages|reminders)\b",
    ),
    "es": (
        r"\bdar(?:me|nos)? de baja\b",
        r"\bno (?:me )?(?:envien|manden|escriban|mande|envie) mas\b",
        r"\bdej(?:en|e|a) de (?:enviar|mandar|escribir)",
        r"\bno (?:quiero )?(?:recibir )?mas mensajes\b",
        r"\bno mas (?:mensajes|textos|recordatorios)\b",
        r"\bcancelar (?:los|mis|la) (?:mensajes|suscripcion|recordatorios)\b",
    ),
}
# Words of a reply about the body or the programme: with these, a bare "stop" or "cancel" is not
# about the messages ("the pain won't stop", "cancel my appointment", "el dolor no para").
NOT_ABOUT_MESSAGES = re.compile(
    r"\b(?:pain\w*|hurt\w*|ache\w*|aching|numb\w*|tingl\w*|sore\w*|burn\w*|stiff\w*|exercis\w*|"
    r"stretch\w*|appointment\w*|session\w*|won't|wont|doesn't|doesnt|can't|cant|dolor\w*|duele\w*|"
    r"molest\w*|adormec\w*|hormigue\w*|ejercicio\w*|cita\w*|no para|no deja)\b"
)
# A word that might be about the messages: with none of the above, ask once rather than guess.
MAYBE = re.compile(
    r"\b(?:no more|stop\w*|quit\w*|cancel\w*|unsub\w*|leave me alone|enough|parar|basta|baja|cancelar|"
    r"ya no quiero|no quiero mas)\b"
)


def normalise(text: str) -> str:
    text = (text or "").replace("’", "'").replace("‘", "'").lower()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = re.sub(r"[^\w\s'-]", " ", text)
    return " ".join(text.split())


_ANYWHERE = [re.compile(p) for patterns in ABOUT_MESSAGES.values() for p in patterns]
_WHOLE = {phrase for phrases in WHOLE.values() for phrase in phrases}


def classify(text: str) -> str | None:
    words = normalise(text)
    if not words:
        return None
    if words in _WHOLE:
        # "stop?" asks rather than tells.
        return AMBIGUOUS if text.strip().endswith("?") else STOP
    if any(p.search(words) for p in _ANYWHERE):
        return STOP
    if NOT_ABOUT_MESSAGES.search(words):
        return None
    return AMBIGUOUS if MAYBE.search(words) else None
