"""What an SMS costs: its encoding (GSM-7 or UCS-2) and how many segments Twilio bills and paces.

Hand-written rather than a dependency: PyPI has GSM 03.38 codecs (gsm0338) but nothing well kept
that counts segments, and the rules fit in a screen. A single SMS holds 160 GSM-7 septets or 70
UTF-16 code units; a longer one is split into parts of 153 or 67 (the rest is the concatenation
header). One character outside GSM-7 turns the whole message into UCS-2.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# GSM 03.38: the basic set costs one septet, the extension set two; anything else forces UCS-2.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsShape:
    encoding: str  # GSM-7 | UCS-2
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    non_gsm: tuple[str, ...]  # the characters that forced UCS-2


def non_gsm(text: str) -> tuple[str, ...]:
    return tuple(sorted({c for c in text if c not in GSM7_BASIC and c not in GSM7_EXTENDED}))


def sms_shape(text: str) -> SmsShape:
    outside = non_gsm(text)
    if not outside:
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    segments = 1 if units <= single else -(-units // multi)
    return SmsShape(encoding, units, segments, outside)


def segments(text: str) -> int:
    return sms_shape(text).segments


def gsm_spelling(name: str) -> str:
    """The name in GSM-7 only: accents GSM-7 lacks dropped ("Clínica" -> "Clinica"), those it has kept
    ("José" stays), curly quotes straightened, and anything else left out."""
    straight = {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "}
    out = []
    for c in name:
        c = straight.get(c, c)
        if c in GSM7_BASIC or c in GSM7_EXTENDED:
            out.append(c)
            continue
        base = "".join(b for b in unicodedata.normalize("NFKD", c) if not unicodedata.combining(b))
        out.append("".join(b for b in base if b in GSM7_BASIC))
    return " ".join("".join(out).split())


def name_warning(name: str, sms_name: str | None = None) -> str | None:
    """A warning for `clinic add`/`update` when the name every SMS starts with forces UCS-2, or None.

    Every SMS begins with the clinic's name, so one accented letter GSM-7 lacks ("í") doubles what
    each message costs: the English reminder goes from 2 segments to 4."""
    if sms_name is not None or not non_gsm(name):
        return None
    chars = " ".join(non_gsm(name))
    return (
        f"warning: the clinic's name has characters outside GSM-7 ({chars}): every SMS would be sent "
        f"as UCS-2, about twice the segments. Give texts a name to use instead: "
        f"--sms-name {gsm_spelling(name)!r}"
    )


def sms_name_problem(sms_name: str) -> str | None:
    """Why an --sms-name cannot be used (one line), or None."""
    if not sms_name.strip():
        return "sms-name: must not be empty"
    outside = non_gsm(sms_name)
    if outside:
        return f"sms-name: {' '.join(outside)} is not in GSM-7; the SMS name exists to avoid UCS-2"
    if len(sms_name) > 40:
        return "sms-name: at most 40 characters (every SMS starts with it)"
    return None
