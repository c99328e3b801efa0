"""Pure: a phone's reaction sent as text ("Liked “time for your exercises…”"), read by its verb
(followup/reading.py uses this)."""

from __future__ import annotations

import re

from .lexicon import Lexicon

# Our message, quoted once: “…”, "…" or «…», with no quote mark inside and nothing after it.
_QUOTED = r"[\"\u201c\u00ab][^\"\u201c\u201d\u00ab\u00bb]*[\"\u201d\u00bb]"
# "Liked an image", "Le gustó una foto": what a phone names an attachment (not "Loved an ambulance")
_ATTACHMENT = (
    r"(?:an?|una?|un) (?:image|photo|picture|video|movie|attachment|sticker|gif|audio message"
    r"|imagen|foto|fotografia|video|archivo|adjunto|sticker|gif|mensaje de audio|audio)"
)


def reaction(folded: str, lexicon: Lexicon) -> str | None:
    """What a phone's reaction sent as text means ("Liked “time for your exercises…”" thanks;
    "Questioned “…”" asks; "Reacted 🤒 to “…”" says what its emoji says), or None when the text is
    no reaction. The quote is our own message, so none of its words are the patient's. `folded`:
    the reply folded, its spaces collapsed."""
    if not lexicon.reactions:
        return None
    for verb, meaning in lexicon.reactions:
        if folded.startswith(verb + " "):
            rest = folded[len(verb) + 1 :]
            # "Reacted 👍 to “…”", "Reaccionó con 👍 a “…”": an emoji between the verb and the quote
            emoji = re.match(r"(?:with |con )?(\S+) (?:to|a) (?=[\"\u201c\u00ab])", rest)
            if emoji:
                rest = rest[emoji.end() :]
            if re.fullmatch(_QUOTED, rest, re.S) or (not emoji and re.fullmatch(_ATTACHMENT, rest)):
                if emoji and not emoji.group(1).isascii():
                    return f"emoji:{emoji.group(1)}"
                # Liking a question ("how is your pain right now, 0-10?") answers none of it: the
                # patient is asked again, as for any reply that is no answer.
                return "unanswered" if meaning == "ack" and "?" in rest else meaning
    return None
