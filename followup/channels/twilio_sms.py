"""SMS through the real `twilio` client. TWILIO_API_BASE_URL points it elsewhere (a local fake in tests).

Error policy: 21610 -> the patient opted out (never retried); 21211/21614/30006 -> the number is unusable;
429, 5xx, timeouts and 30003 -> retried with back-off (no sooner than a Retry-After header asks);
any other code fails with its meaning.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from ..config import Settings
from .base import DeliveryError, Outgoing

TWILIO_BASE = "https://api.twilio.com"
CONCURRENCY = 32  # sends in flight: at 200 ms a call, 20 are needed to reach 100/s
TIMEOUT = 10.0

MEANINGS = {
    21211: "invalid 'To' phone number",
    21408: "sending to this region is not enabled on the account",
    21606: "the 'From' number cannot send SMS",
    21610: "recipient replied STOP (unsubscribed)",
    21612: "cannot route to this number",
    21614: "'To' number is not a mobile number",
    21617: "message body too long",
    30003: "unreachable handset",
    30005: "unknown destination handset",
    30006: "landline or unreachable carrier",
    30007: "filtered by the carrier",
    30036: "validity period expired: not sent in time (ValidityPeriod)",
}
UNUSABLE = {21211, 21614, 30006}  # 30006: a landline or a carrier that cannot take SMS
TRANSIENT = {20429, 30003}

# twilio's client logs every request's URL (with the account SID) and headers at INFO: noise in our logs.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)


class _RedirectingHttpClient(TwilioHttpClient):
    """The real Twilio HTTP client, sending to another base URL (a fake Twilio server)."""

    def __init__(self, base_url: str, **kw):
        super().__init__(**kw)
        self.base_url = base_url.rstrip("/")
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=CONCURRENCY)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        # twilio's exceptions carry no headers: each sending thread keeps its last answer's Retry-After.
        self._local = threading.local()

    def request(self, method, url, *args, **kwargs):
        if url.startswith(TWILIO_BASE):
            url = self.base_url + url[len(TWILIO_BASE) :]
        self._local.retry_after = None
        response = super().request(method, url, *args, **kwargs)
        if response.status_code in (429, 503) and response.headers:
            self._local.retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        return response

    def last_retry_after(self) -> float | None:
        return getattr(self._local, "retry_after", None)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header (delta-seconds or an HTTP date) as seconds from now.

    None if absent or unreadable.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return (
            max(0.0, float(value))
            if value.replace(".", "", 1).isdigit()
            else max(0.0, (parsedate_to_datetime(value) - (now or datetime.now(UTC))).total_seconds())
        )
    except (TypeError, ValueError, OverflowError):
        return None


class TwilioSmsChannel:
    name = "sms"
    concurrency = CONCURRENCY

    def __init__(self, settings: Settings):
        http = _RedirectingHttpClient(settings.twilio_api_base_url, timeout=TIMEOUT)
        self.client = Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=http)
        self.sender = (
            {"messaging_service_sid": settings.twilio_messaging_service_sid}
            if settings.twilio_messaging_service_sid
            else {"from_": settings.twilio_from_number}
        )
        self.status_callback = f"{settings.public_url}/twilio/status"

    def send(self, message: Outgoing) -> str:
        try:
            extra = {"validity_period": message.valid_for} if message.valid_for else {}
            created = self.client.messages.create(
                to=message.to,
                body=message.body,
                status_callback=self.status_callback,
                **self.sender,
                **extra,
            )
        except TwilioRestException as exc:
            raise classify(
                exc.status, exc.code, exc.msg, self.client.http_client.last_retry_after()
            ) from None
        except TwilioServiceException as exc:  # the same error in RFC 9457 form
            raise classify(
                exc.status, exc.code, exc.title, self.client.http_client.last_retry_after()
            ) from None
        except requests.exceptions.Timeout:
            raise DeliveryError(
                f"no answer from Twilio within {self.client.http_client.timeout:g} s"
            ) from None
        except requests.exceptions.ConnectionError as exc:
            raise DeliveryError(f"cannot reach Twilio: {type(exc).__name__}") from None
        return created.sid


def classify(status: int, code: int | None, message: str, retry_after: float | None = None) -> DeliveryError:
    """Twilio's answer -> what followup does about it."""
    meaning = MEANINGS.get(code or 0, message)
    label = str(code or status)
    if code == 21610:
        return DeliveryError(meaning, permanent=True, code=label, consequence="opted_out")
    if code in UNUSABLE:
        return DeliveryError(meaning, permanent=True, code=label, consequence="unusable")
    if code in TRANSIENT or status == 429 or status >= 500:
        return DeliveryError(meaning or f"HTTP {status}", code=label, retry_after=retry_after)
    return DeliveryError(meaning, permanent=True, code=label)
