"""MMS media: what a patient attached (a photo of a swollen arm, a prescription), kept with their
message and shown to the clinic. followup stores Twilio's media URLs and content types, never the
files: Twilio keeps them (fetching one needs the account's credentials), and a clinician opens them
from `patient show`, `patient export` or the review's alert email.

A photo with no text is "photo received": it goes to a person (a review) and the patient is told
the clinic will look, never asked to explain what the reader could not read.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import NamedTuple

MAX_MEDIA = 10  # Twilio delivers at most 10 media per MMS
MAX_URL = 1024
PHOTO_REASON = "photo received"


class Media(NamedTuple):
    url: str
    type: str | None


def from_form(form: dict) -> tuple[Media, ...]:
    """MediaUrl0..N and MediaContentType0..N of an inbound webhook (NumMedia says how many)."""
    try:
        count = min(int(form.get("NumMedia") or 0), MAX_MEDIA)
    except ValueError:
        count = 0
    found = []
    for i in range(max(count, MAX_MEDIA if form.get("MediaUrl0") else 0)):
        url = form.get(f"MediaUrl{i}")
        if not url:
            if i >= count:
                break
            continue
        found.append(Media(url[:MAX_URL], (form.get(f"MediaContentType{i}") or None)))
    return tuple(found)


def problem(form: dict) -> str | None:
    """Why the media fields are not what Twilio sends (one line), or None."""
    count = form.get("NumMedia")
    if count not in (None, "") and not (count.isdigit() and int(count) <= MAX_MEDIA):
        return f"NumMedia must be a whole number from 0 to {MAX_MEDIA}"
    for key, value in form.items():
        if key.startswith("MediaUrl") and len(value) > MAX_URL:
            return f"{key} is at most {MAX_URL} characters"
    return None


def to_column(items) -> str | None:
    return json.dumps([{"url": m.url, "type": m.type} for m in items]) if items else None


def from_column(value: str | None) -> list[dict]:
    if not value:
        return []
    try:
        return [{"url": m.get("url"), "type": m.get("type")} for m in json.loads(value)]
    except (ValueError, AttributeError, TypeError):
        return []


def described(body: str, items) -> str:
    """The text a clinician reads in a review: the words, then each attachment on a line of its own."""
    lines = [body] if body else []
    lines += [f"[{_what(m.type)}: {m.url}{f' ({m.type})' if m.type else ''}]" for m in items]
    return "\n".join(lines)


def _what(content_type: str | None) -> str:
    major = (content_type or "").split("/")[0]
    return {"image": "photo", "video": "video", "audio": "audio"}.get(major, "attachment")


def photo_only(session, patient, clinic, inbound, now: datetime, result) -> tuple[str | None, str] | None:
    """A message with media and no words: a review and a "the clinic will look" answer; None when it
    has words (the reader reads them, and the media still goes to the clinic: see review_media)."""
    if inbound.body.strip():
        return None
    from .messages import render

    _review(session, patient, clinic, inbound, now, result)
    result.action = PHOTO_REASON
    from .escalation import clinic_context

    return render("review", "sms", patient.language, clinic=clinic_context(clinic)).body, "reply"


def review_media(session, patient, clinic, inbound, now: datetime, result) -> None:
    """Media beside words the reader took care of: a person still sees the attachment."""
    if inbound.media and patient is not None and not result.escalations and patient.status != "opted_out":
        _review(session, patient, clinic, inbound, now, result)


def _review(session, patient, clinic, inbound, now, result) -> None:
    from . import escalation, rules

    created = escalation.record(
        session,
        patient,
        clinic,
        rules.Decision(escalation.REVIEW_RULE, "routine", PHOTO_REASON),
        now,
        source_message_id=inbound.id,
        reply=described(inbound.body, inbound.media),
    )
    result.escalations.append(created.id)
