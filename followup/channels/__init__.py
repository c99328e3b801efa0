"""Channels: how a rendered message leaves. One small interface (base.Channel), one class per way out."""

from __future__ import annotations

from ..config import Settings
from .base import Channel, DeliveryError, Outgoing  # noqa: F401


def build(settings: Settings) -> dict[str, Channel]:
    """The configured SMS and email channels, keyed 'sms' and 'email', and the clinics' webhooks."""
    from .console import ConsoleChannel

    channels: dict[str, Channel] = {"sms": ConsoleChannel("sms"), "email": ConsoleChannel("email")}
    if settings.sms_backend == "twilio":
        from .twilio_sms import TwilioSmsChannel

        channels["sms"] = TwilioSmsChannel(settings)
    if settings.email_backend == "smtp":
        from .smtp_email import SmtpEmailChannel

        channels["email"] = SmtpEmailChannel(settings)
    from .webhook import WebhookChannel

    channels["webhook"] = WebhookChannel(settings)  # events to clinics' webhooks (followup/events.py)
    return channels
