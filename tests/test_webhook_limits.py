"""`followup serve` as a process of its own, fed what no Twilio sends: a huge chunked body, a client that
hangs up half-way, webhooks while no auth token is set. Its memory and its log are the evidence."""

import os
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
from channel_fixtures import message_sid
from pg import free_port
from twilio.request_validator import RequestValidator

PUBLIC = "https://followup.example"


class Served:
    def __init__(self, process, port, log):
        self.process, self.port, self.log = process, port, log
        self.url = f"http://127.0.0.1:{port}"

    def peak_rss_mib(self) -> float:
        """The process's high-water resident set (VmHWM): what the machine had to find for it."""
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        raise AssertionError("no VmHWM")


@pytest.fixture
def serve(followup_sqlite, tmp_path):
    followup_sqlite.enrol(followup_sqlite.clinic())
    started = []

    def start(**env) -> Served:
        port, log = free_port(), tmp_path / f"serve{len(started)}.log"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("FOLLOWUP_", "TWILIO_"))}
        full_env.update(
            {
                "FOLLOWUP_DATABASE_URL": followup_sqlite.url,
                "FOLLOWUP_PUBLIC_URL": PUBLIC,
                "FOLLOWUP_NOW": "2026-12-02T00:30:00Z",
                **env,
            }
        )
        process = subprocess.Popen(
            [sys.executable, "-c", "from followup.cli import main; main()", "serve", "--port", str(port)],
            env=full_env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        served = Served(process, port, log)
        for _ in range(300):
            try:
                httpx.get(served.url + "/healthz", timeout=2)
                return served
            except httpx.HTTPError:
                assert process.poll() is None, log.read_text()
                time.sleep(0.1)
        raise AssertionError("followup serve did not start")

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _chunked_post(port: int, total: int, chunk: int = 1 << 20) -> str:
    """POST `total` bytes with Transfer-Encoding: chunked (no Content-Length); the status line."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)

    def send():
        try:
            sock.sendall(
                b"POST /twilio/sms HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            piece = f"{chunk:x}\r\n".encode() + b"a" * chunk + b"\r\n"
            for _ in range(total // chunk):
                sock.sendall(piece)
            sock.sendall(b"0\r\n\r\n")
        except OSError:  # the server stopped reading and hung up: that is the point
            pass

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        answer = b""
        while b"\r\n" not in answer:
            data = sock.recv(4096)
            if not data:
                break
            answer += data
    finally:
        sender.join(timeout=60)
        sock.close()
    return answer.split(b"\r\n")[0].decode()


def test_a_chunked_256_mib_body_is_refused_with_413_and_costs_the_server_under_64_mib(serve):
    served = serve(TWILIO_AUTH_TOKEN="t")
    for _ in range(3):  # warm: every code path of a refused request loaded and run
        assert _chunked_post(served.port, 128 << 10, chunk=16 << 10).split()[1] == "413"
    before = served.peak_rss_mib()
    status = _chunked_post(served.port, 256 << 20)
    grew = served.peak_rss_mib() - before
    assert status.split()[1] == "413", status
    print(f"peak RSS growth for a chunked 256 MiB body: {grew:.1f} MiB")
    assert grew < 64, f"the server grew by {grew:.0f} MiB for one unsigned request"
    assert served.process.poll() is None


def test_a_client_that_hangs_up_mid_body_leaves_no_exception_in_the_log(serve):
    served = serve(TWILIO_AUTH_TOKEN="t")
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
            sock.sendall(
                b"POST /twilio/sms HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 1000\r\n\r\nFrom=%2B16175551000&Body=pa"
            )
            time.sleep(0.2)  # the handler is waiting for the rest of the body
    assert httpx.get(served.url + "/healthz").status_code == 200  # still serving
    time.sleep(0.5)
    log = served.log.read_text()
    assert "Exception in ASGI application" not in log and "Traceback" not in log, log


@pytest.mark.parametrize("path", ["/twilio/sms", "/twilio/status"])
def test_without_an_auth_token_a_webhook_signed_with_the_empty_key_is_refused(serve, followup_sqlite, path):
    served = serve()  # no TWILIO_AUTH_TOKEN, no FOLLOWUP_ALLOW_UNSIGNED
    form = (
        {"From": "+16175550123", "Body": "STOP", "MessageSid": message_sid("forged")}
        if path == "/twilio/sms"
        else {"MessageSid": message_sid("forged"), "MessageStatus": "undelivered", "ErrorCode": "21610"}
    )
    forged = RequestValidator("").compute_signature(PUBLIC + path, form)
    response = httpx.post(served.url + path, data=form, headers={"X-Twilio-Signature": forged})
    assert response.status_code == 403
    assert followup_sqlite.json("messages", "--direction", "in") == []
    assert followup_sqlite.json("patients")[0]["status"] == "active"  # the forged STOP opted nobody out
    assert "TWILIO_AUTH_TOKEN is not set" in served.log.read_text()  # said at start, not a silent refusal
