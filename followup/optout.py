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
from functools import lru_cache

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
# words about pain ("pain is better, please stop texting me"). General forms: a verb of sending with
# the messages as its object, negated or stopped ("don't send me any more messages", "paren los
# mensajes"). What follows must not narrow it to a time or an occasion ("don't text me before 9"
# asks for other times, not for no texts), and "take me off" / "opt out of" must name the messages
# or the list, not an appointment or a class ("take me off the 3pm appointment, pain 2").
_NOUN = r"(?:texts?|messages?|msgs?|reminders?|sms|notifications?|check-?ins?)"
_NOUN_ES = r"(?:mensajes?|textos?|sms|recordatorios?|avisos?|notificaciones)"
_NOT = r"(?:don't|do not|dont|never|please don't|no)"
_FILLER = r"(?: (?:me|us|any|anymore|any more|more|these|those|the|your|all|no|of|texting|text))*"
_FILLER_ES = r"(?: (?:mas|los|las|sus|estos|esos|esas|estas|ningun|ninguno|otro|otros))*"
# "... before 9", "... while driving", "... antes de las 9": about when, not whether.
_NARROWED = (
    r"(?! (?:before|after|at|until|till|on|during|while|between|in the|so early|so late|early|late|"
    r"today|tonight|tomorrow|this (?:morning|evening|week)|antes|despues|durante|por la|en la|a las|"
    r"tan temprano|tan tarde|hoy|manana)\b)"
)
_LIST = (
    r"(?:(?:your|the|this|that|my|all|these) )?(?:(?:text|texting|sms|message|mailing|contact) )?"
    r"(?:list|texts|messages|reminders|programme|program|sms|notifications)\b"
)
ABOUT_MESSAGES: dict[str, tuple[str, ...]] = {
    "en": (
        # "opt out", "opt me out", but not "opt out of the group session"
        r"\bopt(?: me)?[ -]?out\b(?! of (?!" + _LIST + r"))",
        r"\bunsubscribe\b",
        r"\bstop (?:texting|messaging|sending|contacting|emailing)\b" + _NARROWED,
        r"\b(?:stop|quit|cease|end) (?:the|these|all|your|those|all the|sending the|sending me) "
        + _NOUN
        + r"\b",
        r"\bstop all messages\b",
        r"\bno more (?:" + _NOUN + r"|texting)\b" + _NARROWED,
        r"\b"
        + _NOT
        + r" (?:send|text|message|sms|contact|email)"
        + _FILLER
        + r"(?: "
        + _NOUN
        + r")?"
        + r"(?: (?:any ?more|again|ever|please))*\s*$",
        r"\b" + _NOT + r" (?:send|text|message|sms|email)" + _FILLER + r" " + _NOUN + r"\b" + _NARROWED,
        r"\b(?:don't|do not|dont|no longer) (?:want|need|wish)(?: to (?:get|receive))?"
        + _FILLER
        + r" "
        + _NOUN
        + r"\b"
        + _NARROWED,
        r"\b(?:remove|take) me (?:off|from|out of) " + _LIST,
    ),
    "es": (
        r"\bdar(?:me|nos)? de baja\b",
        r"\bno (?:me |nos )?(?:envien|manden|escriban|mande|envie|mandes|envies|manda|envia) mas\b",
        r"\bno (?:me |nos )?(?:envien|manden|escriban|mande|envie|mandes|envies|manda|envia)"
        + _FILLER_ES
        + r" "
        + _NOUN_ES
        + r"\b"
        + _NARROWED,
        r"\bdej(?:en|e|a) de (?:enviar|mandar|escribir)",
        r"\b(?:paren|pare|parar|detengan|detenga|detener|suspendan|suspenda|cancelen|cancele)"
        r"(?: de (?:enviar|mandar))?(?: (?:los|las|sus|estos|esos|mis|el|todos los))? " + _NOUN_ES + r"\b",
        r"\bno (?:quiero )?(?:recibir )?mas mensajes\b",
        r"\b(?:ya )?no (?:quiero|deseo|necesito)(?: (?:recibir|que me (?:envien|manden)))?"
        + _FILLER_ES
        + r" "
        + _NOUN_ES
        + r"\b"
        + _NARROWED,
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


# Every reply asks, and patients send the same few texts: cached by text, as reading is.
@lru_cache(maxsize=4096)
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
