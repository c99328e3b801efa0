"""Phone numbers: parsed and normalised to E.164 with `phonenumbers`."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers


@lru_cache(maxsize=8192)  # pure, and on the hot path: every inbound SMS parses its sender (~0.2 ms)
def parse_phone(text: str, default_region: str | None = None) -> str:
    """E.164 for a valid number; ValueError that says why otherwise."""
    raw = (text or "").strip()
    if not raw:
        raise ValueError("a phone number is required")
    try:
        number = phonenumbers.parse(raw, None if raw.startswith("+") else default_region)
    except phonenumbers.NumberParseException:
        hint = "" if default_region else " (write it in international form, e.g. +1 617 555 0123)"
        raise ValueError(f"{raw!r} is not a phone number{hint}") from None
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        raise ValueError(f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def region_of(e164: str) -> str | None:
    return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
