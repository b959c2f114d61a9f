"""Notifications: kept in the outbox, and delivered over SMTP when configured."""

from __future__ import annotations

import socketserver
import threading
from decimal import Decimal

import pytest

from orchlab import SYSTEM
from orchlab.engine import Engine
from orchlab.people.notify import DeliveryWarning, SmtpConfig
from orchlab.simulate.demo import deploy_examples, setup_directory
from orchlab.store import HistoryStore


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough of RFC 5321 for smtplib: records each message's envelope and text."""

    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        rcpt: list[str] = []
        while line := self.rfile.readline():
            cmd = line.decode().strip()
            verb = cmd.split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250 test\r\n")
            elif verb == "MAIL":
                rcpt = []
                self.wfile.write(b"250 OK\r\n")
            elif verb == "RCPT":
                rcpt.append(cmd.split(":", 1)[1].strip("<> "))
                self.wfile.write(b"250 OK\r\n")
            elif verb == "DATA":
                self.wfile.write(b"354 go ahead\r\n")
                data = []
                while (body := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(body.decode())
                self.server.messages.append((rcpt, "".join(data)))  # type: ignore[attr-defined]
                self.wfile.write(b"250 queued\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.messages = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_work_items_are_mailed_after_commit(smtp_server, clock) -> None:
    port = smtp_server.server_address[1]
    engine = Engine(HistoryStore(), clock=clock, smtp=SmtpConfig("127.0.0.1", port, "orch@x.org"))
    setup_directory(engine)
    deploy_examples(engine)
    engine.start_run(
        "Loan", {"application_id": "A7", "applicant": "Kim", "amount": Decimal(9)}, by=SYSTEM
    )
    assert engine.mailer is not None and engine.mailer.sent == 1
    ((rcpt, text),) = smtp_server.messages
    assert sorted(rcpt) == ["sam@example.com", "wes@example.com"]  # the Loan_Officers queue
    assert "Subject: New work item: Collect documents" in text
    assert "Record: A7" in text and "From: orch@x.org" in text
    outbox = engine.store.execute("SELECT subject FROM outbox")
    assert outbox == [("New work item: Collect documents",)]


def test_a_dead_mail_server_warns_and_keeps_the_outbox(clock) -> None:
    engine = Engine(HistoryStore(), clock=clock, smtp=SmtpConfig("127.0.0.1", 1, timeout=1))
    setup_directory(engine)
    deploy_examples(engine)
    with pytest.warns(DeliveryWarning, match="stay in the outbox"):
        run = engine.start_run(
            "Loan", {"application_id": "A8", "applicant": "Lee", "amount": Decimal(9)}, by=SYSTEM
        )
    assert run.stage.name == "Intake"  # the run went on
    assert engine.store.execute("SELECT count(*) FROM outbox") == [(1,)]
