"""Email through smtplib: STARTTLS and login when configured, multipart text + HTML."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from ..config import Settings
from .base import DeliveryError, Outgoing

TIMEOUT = 30.0


class SmtpEmailChannel:
    name = "email"
    concurrency = 4  # one connection per send; a few at once hide the handshake

    def __init__(self, settings: Settings):
        self.host, self.port = settings.smtp_host, settings.smtp_port
        self.username, self.password = settings.smtp_username, settings.smtp_password
        self.starttls = settings.smtp_starttls
        self.sender = settings.email_from

    def _message(self, message: Outgoing) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject or "A message from your clinic"
        email["Message-ID"] = make_msgid(domain=self.sender.rsplit("@", 1)[-1])
        email.set_content(message.body)
        if message.html:
            email.add_alternative(message.html, subtype="html")
        return email

    def send(self, message: Outgoing) -> str:
        email = self._message(message)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=TIMEOUT) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reason = next(iter(exc.recipients.values()))
            raise DeliveryError(
                f"recipient refused: {_text(reason)}", permanent=code >= 500, code=str(code)
            ) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"SMTP login refused: {_text(exc.smtp_error)}", permanent=True, code=str(exc.smtp_code)
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP error: {_text(exc.smtp_error)}",
                permanent=exc.smtp_code >= 500,
                code=str(exc.smtp_code),
            ) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"cannot reach the SMTP server: {type(exc).__name__}") from None
        return email["Message-ID"]


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
