"""A fake Twilio REST API on loopback: the real `twilio` client talks to it over real HTTP.

It records every Messages.create request (its StatusCallback and ValidityPeriod too), can add
latency, and answers like Twilio does: 201 with a
message SID, or an error (400 with 21211/21610/21614, 429 with 20429, 500) chosen per recipient or
scripted for the next requests; it can also hang past the client's timeout. `retry_after` adds a
Retry-After header (seconds) to its 429 and 503 answers, as Twilio does when it sheds load.

    python -m followup.testing.fake_twilio --port 8099 --latency 0.2
    TWILIO_API_BASE_URL=http://127.0.0.1:8099 TWILIO_ACCOUNT_SID=ACfake TWILIO_AUTH_TOKEN=secret ...
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import threading
import time
import uuid
from array import array
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ERRORS = {  # code -> (HTTP status, message), as Twilio words them
    21211: (400, "The 'To' number is not a valid phone number."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number is not a valid mobile number"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    30003: (400, "Unreachable destination handset"),
}
_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")


@dataclass
class Request:
    at: float
    to: str
    sender: str | None
    messaging_service_sid: str | None
    body: str
    status_callback: str | None
    answered: int = 0
    sid: str | None = None
    validity_period: int | None = None
    via: str = "rest"  # rest | twiml (an answer in a webhook's TwiML, see accept_twiml)


@dataclass
class FakeTwilio:
    account_sid: str = "ACfake"
    auth_token: str = "secret"
    latency: float = 0.0
    by_recipient: dict[str, int | str] = field(default_factory=dict)  # to -> error code or "timeout"
    script: list[int | str] = field(default_factory=list)  # next responses: error code, "timeout", or 201
    outage: int | str | None = None  # while set, every request gets this: an error code or "timeout"
    hang_seconds: float = 30.0
    retry_after: float | None = None  # seconds, sent as Retry-After on 429 and 503 answers
    limit_per_second: int | None = None  # like Twilio's own limit: above it, 429 with 20429
    keep_requests: bool = True  # False (soak runs): keep counts and arrival times only, not a million bodies
    requests: list[Request] = field(default_factory=list)
    counts: dict[int, int] = field(default_factory=dict)  # HTTP status -> answers given
    arrivals: array = field(default_factory=lambda: array("d"))  # wall time of each 201, in arrival order
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet: tests read the recorded requests instead
                pass

            def do_POST(self):
                fake._handle(self)

            def do_GET(self):
                if self.path == "/_fake/stats":
                    return fake._reply(self, 200, fake.stats())
                if self.path == "/_fake/arrivals":
                    with fake.lock:
                        return fake._reply(self, 200, {"arrivals": fake.arrivals.tolist()})
                fake._reply(self, 404, {"code": 20404, "message": "not found", "status": 404})

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- what tests ask -------------------------------------------------------------------------

    def sent(self) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.answered == 201]

    def stats(self) -> dict:
        with self.lock:
            counts = dict(self.counts)
        return {
            "requests": sum(counts.values()),
            "sent": counts.get(201, 0),
            "rejected_429": counts.get(429, 0),
            "answers": counts,
            "max_in_1s": self.max_in_window(1.0),
        }

    def max_in_window(self, seconds: float = 1.0) -> int:
        """The most requests that arrived within any window of `seconds` (a sliding window)."""
        with self.lock:
            times = sorted(r.at for r in self.requests)
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= seconds:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def accept_twiml(self, twiml: str, to: str) -> list[Request]:
        """What Twilio does with a webhook's answer: each <Message> becomes a message of its own,
        with a new SID, whose status callbacks go to its `action` URL."""
        from xml.etree import ElementTree

        made = []
        for node in ElementTree.fromstring(twiml).iter("Message"):
            request = Request(
                at=time.monotonic(),
                to=node.get("to") or to,
                sender=None,
                messaging_service_sid=None,
                body=node.text or "",
                status_callback=node.get("action") or node.get("statusCallback"),
                answered=201,
                sid="SM" + uuid.uuid4().hex,
                via="twiml",
            )
            with self.lock:
                self.requests.append(request)
            made.append(request)
        return made

    def report(self, request: Request, status: str, error_code: int | None = None, *, server: str) -> int:
        """Post a status callback for `request` as Twilio does, to the followup server at `server`
        (its base URL): signed over the callback URL as given, less any user:pass@, which goes in
        the Authorization header instead. Returns the HTTP status of the answer."""
        import urllib.error
        import urllib.request
        from urllib.parse import urlencode, urlsplit, urlunsplit

        from twilio.request_validator import RequestValidator

        if not request.status_callback:
            raise ValueError("this message has no status callback")
        form = {
            "MessageSid": request.sid,
            "SmsSid": request.sid,
            "AccountSid": self.account_sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "To": request.to,
            "ApiVersion": "2010-04-01",
        }
        if error_code:
            form["ErrorCode"] = str(error_code)
        parts = urlsplit(request.status_callback)
        host = parts.netloc.rsplit("@", 1)[-1]
        signed = urlunsplit(parts._replace(netloc=host))
        headers = {
            "X-Twilio-Signature": RequestValidator(self.auth_token).compute_signature(signed, form),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        if "@" in parts.netloc:
            headers["Authorization"] = (
                "Basic " + base64.b64encode(parts.netloc.rsplit("@", 1)[0].encode()).decode()
            )
        target = server.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
        post = urllib.request.Request(target, data=urlencode(form).encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(post, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code

    # --- the server side ------------------------------------------------------------------------

    def _handle(self, http: BaseHTTPRequestHandler) -> None:
        length = int(http.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(http.rfile.read(length).decode()).items()}
        match = _PATH.match(http.path)
        if not match:
            return self._reply(
                http, 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
            )
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if match.group("sid") != self.account_sid or http.headers.get("Authorization") != expected:
            return self._reply(http, 401, {"code": 20003, "message": "Authenticate", "status": 401})
        request = Request(
            at=time.monotonic(),
            to=form.get("To", ""),
            sender=form.get("From"),
            messaging_service_sid=form.get("MessagingServiceSid"),
            body=form.get("Body", ""),
            status_callback=form.get("StatusCallback"),
            validity_period=int(form["ValidityPeriod"]) if form.get("ValidityPeriod") else None,
        )
        with self.lock:
            if self.limit_per_second and self._recent(request.at) >= self.limit_per_second:
                outcome = 20429
            else:
                outcome = self.outage or (
                    self.script.pop(0) if self.script else self.by_recipient.get(request.to, 201)
                )
            if self.keep_requests:
                self.requests.append(request)
        if self.latency:
            time.sleep(self.latency)
        if outcome == "timeout":
            time.sleep(self.hang_seconds)
            return
        if outcome != 201:
            status, message = ERRORS.get(int(outcome), (400, "Error"))
            request.answered = status
            self._count(status)
            headers = (
                {"Retry-After": f"{self.retry_after:g}"}
                if self.retry_after is not None and status in (429, 503)
                else {}
            )
            return self._reply(
                http,
                status,
                {
                    "code": int(outcome),
                    "message": message,
                    "status": status,
                    "more_info": f"https://www.twilio.com/docs/errors/{outcome}",
                },
                headers,
            )
        request.answered = 201
        request.sid = sid = "SM" + uuid.uuid4().hex
        self._count(201)
        self._reply(
            http,
            201,
            {
                "sid": sid,
                "status": "queued",
                "to": request.to,
                "from": request.sender,
                "body": request.body,
                "account_sid": self.account_sid,
                "messaging_service_sid": request.messaging_service_sid,
                "num_segments": "1",
                "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
            },
        )

    def _count(self, status: int) -> None:
        with self.lock:
            self.counts[status] = self.counts.get(status, 0) + 1
            if status == 201:
                self.arrivals.append(time.time())

    def _recent(self, now: float) -> int:
        count = 0
        for r in reversed(self.requests):
            if now - r.at >= 1.0:
                break
            count += 1
        return count

    @staticmethod
    def _reply(http: BaseHTTPRequestHandler, status: int, payload: dict, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            http.send_response(status)
            for name, value in (headers or {}).items():
                http.send_header(name, value)
            http.send_header("Content-Type", "application/json")
            http.send_header("Content-Length", str(len(data)))
            http.end_headers()
            http.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): exactly what a hang is for


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--account-sid", default="ACfake")
    parser.add_argument("--auth-token", default="secret")
    parser.add_argument("--limit", type=int, help="answer 429 (20429) above this many requests a second")
    parser.add_argument("--retry-after", type=float, help="Retry-After (seconds) on 429 and 503 answers")
    parser.add_argument(
        "--count-only",
        action="store_true",
        help="keep counts and arrival times, not every request (long soak runs)",
    )
    args = parser.parse_args()
    fake = FakeTwilio(
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        latency=args.latency,
        limit_per_second=args.limit,
        keep_requests=not args.count_only,
        retry_after=args.retry_after,
    )
    fake.start(args.host, args.port)
    print(f"fake Twilio on {fake.url} (account {args.account_sid}); Ctrl-C to stop", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
