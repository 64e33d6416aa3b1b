"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

import asyncio
import socket
import threading
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """The aiosmtpd handler: stores each message; can stall RCPT to hold a sender still."""

    def __init__(self, rcpt_delay: float = 0.0):
        self.messages = []
        self.raw = []  # the bytes as they came over the wire
        self.rcpt_delay = rcpt_delay
        self.stalled_peers = []  # (host, port) of each connection seen stalling in RCPT
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_delay:
            with self.lock:
                self.stalled_peers.append(session.peer)
            await asyncio.sleep(self.rcpt_delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
            self.raw.append(envelope.original_content)
        return "250 Message accepted for delivery"

    def keys(self) -> list[str]:
        with self.lock:
            return [m["X-Lotsen-Key"] for m in self.messages]


class SmtpServer:
    def __init__(self, rcpt_delay: float = 0.0):
        self.port = free_port()
        self.mailbox = Mailbox(rcpt_delay)
        self.controller = None

    def start(self):
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        return self.mailbox.messages
