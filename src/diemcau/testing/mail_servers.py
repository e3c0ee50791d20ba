"""Real mail servers on 127.0.0.1 for the tests of the official mailbox (KH Đ13.2a): a private
Dovecot (Debian's `dovecot-imapd`) with its own configuration, folder and free port, and an
aiosmtpd SMTP server that keeps what it receives. Nothing is faked: the code under test speaks
IMAP and SMTP to them."""

from __future__ import annotations

import email
import email.policy
import imaplib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

DOVECOT = "/usr/sbin/dovecot"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_port(port: int, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answers on 127.0.0.1:{port}")


_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = diemcau-test-{port}
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
log_path = {root}/dovecot.log
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class ImapServer:
    """A running private Dovecot with one mailbox account."""

    root: Path
    port: int
    user: str = "hoptructuyen"
    password: str = "mat-khau-hop-thu"

    @property
    def url(self) -> str:
        return f"imap://{self.user}:{self.password}@127.0.0.1:{self.port}/INBOX"

    def deliver(self, message: bytes, *, arrived: float) -> None:
        """Put a message in the inbox as the mail server would on receiving it, with its
        arrival time (INTERNALDATE, as a Unix time)."""
        connection = imaplib.IMAP4("127.0.0.1", self.port)
        try:
            connection.login(self.user, self.password)
            connection.append("INBOX", "", imaplib.Time2Internaldate(arrived), message)
        finally:
            connection.logout()

    def unseen(self) -> int:
        connection = imaplib.IMAP4("127.0.0.1", self.port)
        try:
            connection.login(self.user, self.password)
            connection.select("INBOX")
            status, found = connection.search(None, "UNSEEN")
            return len(found[0].split()) if status == "OK" and found[0] else 0
        finally:
            connection.logout()


@pytest.fixture
def imap_server() -> Iterator[ImapServer]:
    if not os.path.exists(DOVECOT):
        pytest.skip("needs Dovecot: apt-get install dovecot-imapd (CI installs it)")
    if os.geteuid() != 0:
        pytest.skip("needs root to run a private Dovecot (CI runs as root)")
    root = Path(tempfile.mkdtemp(prefix="diemcau-imap-"))
    root.chmod(0o755)  # Dovecot's mail processes run as the dovecot user
    port = free_port()
    server = ImapServer(root, port)
    (root / "mail").mkdir()
    shutil.chown(root / "mail", "dovecot", "dovecot")
    (root / "passwd").write_text(f"{server.user}:{{PLAIN}}{server.password}\n")
    config = root / "dovecot.conf"
    config.write_text(_CONFIG.format(root=root, port=port))
    subprocess.run([DOVECOT, "-c", str(config)], check=True)
    try:
        _wait_for_port(port)
        yield server
    finally:
        subprocess.run([DOVECOT, "-c", str(config), "stop"], check=False)
        pid_file = root / "run" / "master.pid"
        deadline = time.monotonic() + 10
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class SmtpServer:
    """A running aiosmtpd server; `messages` holds what it received, parsed."""

    port: int
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpServer]:
    """An SMTP server on 127.0.0.1, and the site's e-mail sent to it."""
    from aiosmtpd.controller import Controller

    server = SmtpServer(free_port())
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield server
    finally:
        controller.stop()
