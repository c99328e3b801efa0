"""Typed settings from the environment (CONTRACT.md). Read once at start; a bad value is one clear line.

Any setting may instead be given as NAME_FILE, the path of a file holding it (for secrets).
"""

from __future__ import annotations

import math
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import getaddresses
from pathlib import Path
from urllib.parse import urlparse

from .errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///followup.db"

# Bounds (README, Configuration). Below the minimum rate a single clinic's 09:00 batch outlives its
# 2 h grace; the maximum is far above any Twilio throughput (the soak uses it to mean "uncapped"),
# so a value past it is a typo. A lease shorter than a batch's sends lets a second worker claim rows
# that are still being sent (duplicates), so it is at least 10 s.
SMS_RATE_MIN, SMS_RATE_MAX = 0.01, 100_000
LEASE_MIN, LEASE_MAX = 10, 3600

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_SHORT_CODE = re.compile(r"[0-9]{5,6}")
_ADDRESS = re.compile(r"[^@\s<>\"(),;:]+@[^@\s<>\"(),;:.]+(\.[^@\s<>\"(),;:.]+)+")


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    file_name = env.get(f"{name}_FILE")
    if value not in (None, "") and file_name:
        raise ConfigError(f"{name} and {name}_FILE are both set; keep one")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE: cannot read {file_name}: {exc.strerror}") from exc
    return value if value not in (None, "") else None


def _bool(name: str, text: str | None, default: bool) -> bool:
    if text is None:
        return default
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1/0, true/false, yes/no or on/off, not {text!r}")


def _number(
    name: str,
    text: str | None,
    default: float,
    *,
    integer: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
):
    if text is None:
        return default
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise ConfigError(f"{name} must be {kind}, not {text!r}") from None
    if not math.isfinite(value):  # float() takes "nan" and "inf"; neither is a rate or a duration
        raise ConfigError(f"{name} must be a finite number, not {text!r}")
    if minimum is not None and value < minimum:
        upper = f" and at most {maximum:g}" if maximum is not None else ""
        raise ConfigError(f"{name} must be at least {minimum:g}{upper}, not {text!r}")
    if value <= 0 or (maximum is not None and value > maximum):
        upper = f" and at most {maximum:g}" if maximum is not None else ""
        raise ConfigError(f"{name} must be greater than 0{upper}, not {text!r}")
    return value


def _choice(name: str, text: str | None, choices: tuple[str, ...], default: str) -> str:
    if text is None:
        return default
    if text not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {text!r}")
    return text


def _url(name: str, text: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    parsed = urlparse(text)
    if parsed.scheme not in schemes or not parsed.netloc:
        raise ConfigError(f"{name} must be an absolute {'/'.join(schemes)} URL, not {text!r}")
    try:
        parsed.port  # noqa: B018  (urlparse checks the port only when asked)
    except ValueError:
        raise ConfigError(f"{name}: the port must be a number from 0 to 65535, in {text!r}") from None
    return text.rstrip("/")


def _database_url(text: str) -> str:
    """The URL as SQLAlchemy will read it: a port that is a number, a SQLite directory that exists."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text)
        port = url.port  # parsed lazily for some URLs: a non-numeric port raises here, not at connect
    except ValueError:  # int() of the port
        raise ConfigError(
            f"FOLLOWUP_DATABASE_URL: the port must be a number, in {_hide_password(text)!r}"
        ) from None
    except ArgumentError:
        raise ConfigError(f"FOLLOWUP_DATABASE_URL is not a valid URL: {_hide_password(text)!r}") from None
    if port is not None and not 0 < port < 65536:
        raise ConfigError(f"FOLLOWUP_DATABASE_URL: port {port} is out of range")
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        directory = os.path.dirname(os.path.abspath(url.database))
        if not os.path.isdir(directory):
            raise ConfigError(f"FOLLOWUP_DATABASE_URL: the directory {directory} does not exist")
    return text


def _hide_password(text: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", text)


def _is_twilio(api_base_url: str) -> bool:
    host = (urlparse(api_base_url).hostname or "").lower()
    return host == "twilio.com" or host.endswith(".twilio.com")


def _twilio_sid(name: str, text: str | None, prefix: str, strict: bool) -> str | None:
    """Twilio SIDs are two letters and 32 hex digits. Against a fake API (tests, development) any
    letters and digits after the prefix will do ("ACfake")."""
    if text is None:
        return None
    pattern = rf"{prefix}[0-9a-fA-F]{{32}}" if strict else rf"{prefix}[0-9A-Za-z]{{1,64}}"
    if not re.fullmatch(pattern, text):
        what = f"{prefix} followed by 32 hex digits" if strict else f"{prefix} followed by letters or digits"
        raise ConfigError(f"{name} must be {what}, not {text!r}")
    return text


def _from_number(text: str | None) -> str | None:
    if text is not None and not (_E164.fullmatch(text) or _SHORT_CODE.fullmatch(text)):
        raise ConfigError(
            f"TWILIO_FROM_NUMBER must be a phone number in E.164 form (+16175550100) or a short "
            f"code, not {text!r}"
        )
    return text


def _email_from(text: str | None) -> str | None:
    if text is None:
        return None
    addresses = getaddresses([text]) if "\n" not in text and "\r" not in text else []
    if len(addresses) != 1 or not _ADDRESS.fullmatch(addresses[0][1]):
        raise ConfigError(
            f"FOLLOWUP_EMAIL_FROM must be one email address (clinic@example.org or "
            f"'Clinic <clinic@example.org>'), not {text!r}"
        )
    return text


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    now: str | None = None
    sms_backend: str = "console"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"
    sms_max_per_second: float = 1.0
    email_backend: str = "console"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    email_from: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    allow_unsigned: bool = False
    lease_seconds: float = 120.0
    spool_dir: str | None = None
    # Who answers STOP/START/HELP: Twilio's own handling, or followup (keywords.py).
    keyword_answers: str = "followup"
    log_format: str = "text"  # text | json (FOLLOWUP_LOG_FORMAT, followup/logs.py)
    webhook_secret: str | None = field(default=None, repr=False)  # whsec_… (FOLLOWUP_WEBHOOK_SECRET)


def _webhook_secret(text: str | None) -> str | None:
    """Standard Webhooks: `whsec_` and the base64 of 24 to 64 random bytes."""
    import base64
    import binascii

    if text is None:
        return None
    problem = "FOLLOWUP_WEBHOOK_SECRET must be whsec_ followed by the base64 of 24 to 64 random bytes"
    if not text.startswith("whsec_"):
        raise ConfigError(f"{problem} (it does not start with whsec_)")
    try:
        key = base64.b64decode(text[len("whsec_") :], validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{problem} (what follows whsec_ is not base64)") from None
    if not 24 <= len(key) <= 64:
        raise ConfigError(f"{problem} (it holds {len(key)} bytes)")
    return text


def _spool_dir(value: str | None, database_url: str) -> str | None:
    """Default: beside a SQLite file, else ./followup-spool. "off": no spool (the webhook answers 503)."""
    if value and value.lower() == "off":
        return None
    if value:
        return value
    path = database_url.split("sqlite:///", 1)[1] if database_url.startswith("sqlite:///") else ""
    return (
        os.path.join(os.path.dirname(os.path.abspath(path)), "followup-spool") if path else "followup-spool"
    )


def load(env: Mapping[str, str] | None = None, **overrides) -> Settings:
    """Settings from `env` (default: os.environ); CLI options come in as keyword overrides."""
    env = os.environ if env is None else env
    g = lambda name: _get(env, name)  # noqa: E731

    database_url = overrides.get("database_url") or g("FOLLOWUP_DATABASE_URL") or DEFAULT_DATABASE_URL
    if not (database_url.startswith("sqlite:") or database_url.startswith("postgresql")):
        raise ConfigError(
            f"FOLLOWUP_DATABASE_URL must be sqlite:///PATH or postgresql+psycopg://..., not "
            f"{_hide_password(database_url)!r}"
        )
    if database_url.startswith("postgresql://") or database_url.startswith("postgres://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask SQLAlchemy for psycopg2.
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
    database_url = _database_url(database_url)

    now = overrides.get("now") or g("FOLLOWUP_NOW")
    if now:
        from .clock import parse_instant

        try:
            parse_instant(now)
        except ValueError as exc:
            raise ConfigError(f"FOLLOWUP_NOW: {exc}") from None

    api_base_url = _url("TWILIO_API_BASE_URL", g("TWILIO_API_BASE_URL") or "https://api.twilio.com")
    real_twilio = _is_twilio(api_base_url)
    sid = _twilio_sid("TWILIO_ACCOUNT_SID", g("TWILIO_ACCOUNT_SID"), "AC", real_twilio)
    sms_backend = _choice(
        "FOLLOWUP_SMS_BACKEND",
        g("FOLLOWUP_SMS_BACKEND"),
        ("twilio", "console"),
        "twilio" if sid else "console",
    )
    token = g("TWILIO_AUTH_TOKEN")
    from_number = _from_number(g("TWILIO_FROM_NUMBER"))
    service_sid = _twilio_sid(
        "TWILIO_MESSAGING_SERVICE_SID", g("TWILIO_MESSAGING_SERVICE_SID"), "MG", real_twilio
    )
    if sms_backend == "twilio":
        missing = [n for n, v in (("TWILIO_ACCOUNT_SID", sid), ("TWILIO_AUTH_TOKEN", token)) if not v]
        if missing:
            raise ConfigError(f"FOLLOWUP_SMS_BACKEND=twilio needs {' and '.join(missing)}")
        if not (from_number or service_sid):
            raise ConfigError(
                "FOLLOWUP_SMS_BACKEND=twilio needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"
            )

    smtp_host = g("FOLLOWUP_SMTP_HOST")
    email_backend = _choice(
        "FOLLOWUP_EMAIL_BACKEND",
        g("FOLLOWUP_EMAIL_BACKEND"),
        ("smtp", "console"),
        "smtp" if smtp_host else "console",
    )
    smtp_username = g("FOLLOWUP_SMTP_USERNAME")
    email_from = _email_from(g("FOLLOWUP_EMAIL_FROM"))
    if email_backend == "smtp":
        if not smtp_host:
            raise ConfigError("FOLLOWUP_EMAIL_BACKEND=smtp needs FOLLOWUP_SMTP_HOST")
        if not email_from:
            raise ConfigError("FOLLOWUP_EMAIL_BACKEND=smtp needs FOLLOWUP_EMAIL_FROM (the sender address)")

    return Settings(
        database_url=database_url,
        now=now,
        sms_backend=sms_backend,
        twilio_account_sid=sid,
        twilio_auth_token=token,
        twilio_from_number=from_number,
        twilio_messaging_service_sid=service_sid,
        twilio_api_base_url=api_base_url,
        sms_max_per_second=_number(
            "FOLLOWUP_SMS_MAX_PER_SECOND",
            g("FOLLOWUP_SMS_MAX_PER_SECOND"),
            1.0,
            minimum=SMS_RATE_MIN,
            maximum=SMS_RATE_MAX,
        ),
        email_backend=email_backend,
        smtp_host=smtp_host,
        smtp_port=int(
            _number("FOLLOWUP_SMTP_PORT", g("FOLLOWUP_SMTP_PORT"), 587, integer=True, maximum=65535)
        ),
        smtp_username=smtp_username,
        smtp_password=g("FOLLOWUP_SMTP_PASSWORD"),
        smtp_starttls=_bool("FOLLOWUP_SMTP_STARTTLS", g("FOLLOWUP_SMTP_STARTTLS"), bool(smtp_username)),
        email_from=email_from,
        public_url=_url("FOLLOWUP_PUBLIC_URL", g("FOLLOWUP_PUBLIC_URL") or "http://127.0.0.1:8000"),
        allow_unsigned=_bool("FOLLOWUP_ALLOW_UNSIGNED", g("FOLLOWUP_ALLOW_UNSIGNED"), False),
        # How long a worker owns the rows it claimed; after that another worker may send them.
        lease_seconds=_number(
            "FOLLOWUP_LEASE_SECONDS", g("FOLLOWUP_LEASE_SECONDS"), 120.0, minimum=LEASE_MIN, maximum=LEASE_MAX
        ),
        # Where the webhook keeps replies that arrive while the database is away ("off": answer 503).
        spool_dir=_spool_dir(g("FOLLOWUP_SPOOL_DIR"), database_url),
        keyword_answers=_choice(
            "FOLLOWUP_KEYWORD_ANSWERS",
            g("FOLLOWUP_KEYWORD_ANSWERS"),
            ("twilio", "followup"),
            "twilio" if sms_backend == "twilio" else "followup",
        ),
        log_format=_choice("FOLLOWUP_LOG_FORMAT", g("FOLLOWUP_LOG_FORMAT"), ("text", "json"), "text"),
        webhook_secret=_webhook_secret(g("FOLLOWUP_WEBHOOK_SECRET")),
    )


def check_spool_dir(settings: Settings) -> None:
    """For the webhook server, at start: the spool must be writable now, not at the first outage,
    when a reply would be lost instead of kept. Creates the directory (owner-only) as the spool would."""
    if settings.spool_dir is None:
        return
    folder = Path(settings.spool_dir)
    probe = folder / f".probe-{uuid.uuid4().hex}"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if folder.stat().st_mode & 0o077:
            folder.chmod(0o700)  # it holds patients' numbers and words: owner only, as created
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(
            f"FOLLOWUP_SPOOL_DIR: cannot write to {settings.spool_dir}: "
            f"{exc.strerror or exc} (set it to a writable directory, or to off)"
        ) from None
