"""Message text: Jinja2 over templates/<channel>/<language>/<kind>.txt."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from .errors import FollowupError
from .programs import Program
from .resources import resource_dir

LANGUAGES = ("en", "es")


@dataclass(frozen=True)
class Rendered:
    body: str
    subject: str | None = None


@lru_cache(maxsize=1)
def environment() -> Environment:
    # Plain text, not HTML: autoescape stays off here; the HTML email templates escape themselves.
    # StrictUndefined: a template that names a missing variable fails loudly, never sends a blank.
    # auto_reload off: templates ship with the package, and checking each file's mtime on every
    # render was a system call per message. Restart the service after editing a template.
    return Environment(
        loader=FileSystemLoader(str(resource_dir("templates"))),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=False,
        autoescape=False,
        auto_reload=False,
    )


@cache
def _subjects(language: str) -> dict[str, str]:
    path = resource_dir("templates") / "email" / language / "subjects.txt"
    pairs = (line.split(":", 1) for line in path.read_text(encoding="utf-8").splitlines() if ":" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def exercise_context(program: Program, language: str) -> list[dict]:
    return [
        {
            "name": e.display_name(language),
            "hold_s": e.hold_s,
            "rest_s": e.rest_s,
            "reps": e.reps,
            "sets": e.sets,
            "per_day": e.per_day,
            "up_to": e.up_to,
        }
        for e in program.exercises
    ]


# Rendered texts by their arguments: most replies are answered with the same few texts for the same
# clinic, and a template renders the same text for the same values (a Jinja render is ~0.1 ms).
_RENDERED: dict[tuple, Rendered] = {}
_RENDERED_MAX = 4096


def _key(kind: str, channel: str, language: str, context: dict) -> tuple | None:
    """The arguments as a hashable key (types included: True and 1 print differently), or None when a
    value cannot be one (a reminder's list of exercises)."""
    try:
        key = (kind, channel, language) + tuple(
            (name, type(v), tuple((k, type(x), x) for k, x in v.items()) if isinstance(v, dict) else v)
            for name, v in sorted(context.items())
        )
        hash(key)
    except TypeError:
        return None
    return key


def render(kind: str, channel: str, language: str, **context) -> Rendered:
    key = _key(kind, channel, language, context)
    rendered = _RENDERED.get(key) if key is not None else None
    if rendered is None:
        rendered = _render(kind, channel, language, context)
        if key is not None:
            if len(_RENDERED) >= _RENDERED_MAX:
                _RENDERED.clear()
            _RENDERED[key] = rendered
    return rendered


def _render(kind: str, channel: str, language: str, context: dict) -> Rendered:
    language = language if language in LANGUAGES else "en"
    name = f"{channel}/{language}/{kind}.txt"
    try:
        template = environment().get_template(name)
    except TemplateNotFound:
        raise FollowupError(f"no template {name}") from None
    clinic = context.get("clinic")
    if channel == "sms" and isinstance(clinic, dict) and clinic.get("sms_name"):
        # Every SMS starts with the clinic's name: its GSM-7 spelling keeps texts out of UCS-2.
        context = {**context, "clinic": {**clinic, "name": clinic["sms_name"]}}
    body = template.render(**context).strip()
    subject = (
        _subjects(language).get(kind, kind.replace("_", " ").capitalize()) if channel == "email" else None
    )
    return Rendered(body=body, subject=subject)


@lru_cache(maxsize=1)
def html_environment() -> Environment:
    # HTML: everything a patient or clinic typed is escaped ({{ "<b>" }} shows as text).
    return Environment(
        loader=FileSystemLoader(str(resource_dir("templates"))),
        undefined=StrictUndefined,
        autoescape=True,
        auto_reload=False,
    )


def html_email(body: str, subject: str | None, language: str, clinic_name: str) -> str:
    language = language if language in LANGUAGES else "en"
    template = html_environment().get_template(f"email/{language}/_layout.html")
    return template.render(body=body, subject=subject or "", clinic_name=clinic_name)


# Segment counting lives in segments.py; these names stay importable from here.
from .segments import GSM7_BASIC, GSM7_EXTENDED, SmsShape, sms_shape  # noqa: E402,F401
