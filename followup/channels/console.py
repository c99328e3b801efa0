"""Development channel: prints the message, clearly marked as not sent."""

from __future__ import annotations

import sys
import threading
import uuid

from .base import Outgoing


class ConsoleChannel:
    concurrency = 1

    def __init__(self, name: str, stream=None):
        self.name = name
        self.stream = stream
        self._lock = threading.Lock()

    def send(self, message: Outgoing) -> str:
        stream = self.stream or sys.stdout
        subject = f" [{message.subject}]" if message.subject else ""
        with self._lock:
            print(
                f"--- console {self.name} to {message.to}{subject} (NOT SENT: console channel) ---\n"
                f"{message.body}\n---",
                file=stream,
                flush=True,
            )
        return f"console-{uuid.uuid4().hex}"  # unique across processes: the log keys on it
