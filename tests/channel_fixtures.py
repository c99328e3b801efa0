"""Real peers on loopback: the shipped fake Twilio server and an aiosmtpd SMTP server."""

from __future__ import annotations

import threading

import pytest
from aiosmtpd.controller import Controller
from pg import free_port

from followup.testing.fake_twilio import FakeTwilio


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        import email
        from email import policy

        with self.lock:
            self.messages.append(
                (envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=policy.default))
            )
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.test"):
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def fake_twilio():
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())  # port 0 is refused by aiosmtpd
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


def twilio_env(fake: FakeTwilio) -> dict[str, str]:
    return {
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token,
        "TWILIO_FROM_NUMBER": "+16175550100",
        "TWILIO_API_BASE_URL": fake.url,
        "FOLLOWUP_SMS_MAX_PER_SECOND": "50",
        "FOLLOWUP_PUBLIC_URL": "https://followup.example",
    }


def smtp_env(inbox: Inbox) -> dict[str, str]:
    return {
        "FOLLOWUP_SMTP_HOST": "127.0.0.1",
        "FOLLOWUP_SMTP_PORT": str(inbox.port),
        "FOLLOWUP_EMAIL_FROM": "clinic@elm.example",
    }


class LiveServer:
    """followup's FastAPI app under a real uvicorn on loopback, in a thread."""

    def __init__(self, settings, lifespan: str = "off"):
        import uvicorn

        from followup.web import create_app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings), host="127.0.0.1", port=self.port, log_level="warning", lifespan=lifespan
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        import time

        self.thread.start()
        for _ in range(3000):  # with lifespan="on", startup loads the reader first (seconds)
            if self.server.started:
                return self
            time.sleep(0.01)
        raise RuntimeError("uvicorn did not start")

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)


def message_sid(label: str) -> str:
    """A Twilio-shaped Message SID (SM and 32 hex digits), the same for the same label."""
    import hashlib

    return "SM" + hashlib.sha256(label.encode()).hexdigest()[:32]


def signed_post(
    server: LiveServer,
    path: str,
    form: dict,
    token: str,
    public_url: str,
    signature: str | None = None,
    timeout: float = 10,
):
    import httpx
    from twilio.request_validator import RequestValidator

    if signature is None:
        signature = RequestValidator(token).compute_signature(public_url + path, form)
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return httpx.post(server.url + path, data=form, headers=headers, timeout=timeout)
