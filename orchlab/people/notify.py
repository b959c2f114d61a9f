"""Email delivery of work-item notifications over SMTP, when configured.

Every notification is first stored in the history (the `outbox` view); delivery
happens after the engine call has committed, so a mail server that is down never
loses or blocks a work item. Delivery problems are reported, not raised.
"""

from __future__ import annotations

import smtplib
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

__all__ = ["SmtpConfig", "Mailer", "DeliveryWarning"]


class DeliveryWarning(UserWarning):
    """An email could not be delivered; it stays in the outbox."""


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str = "localhost"
    port: int = 25
    sender: str = "orchlab@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0


class Mailer:
    """Sends outbox messages through one SMTP connection per batch."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.sent = 0
        self.failed = 0

    def send(self, messages: Iterable[dict[str, Any]]) -> int:
        batch = [m for m in messages if m.get("to")]
        if not batch:
            return 0
        cfg = self.config
        try:
            with smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout) as smtp:
                if cfg.starttls:
                    smtp.starttls()
                if cfg.username:
                    smtp.login(cfg.username, cfg.password or "")
                for message in batch:
                    email = EmailMessage()
                    email["From"] = cfg.sender
                    email["To"] = ", ".join(message["to"])
                    email["Subject"] = message["subject"]
                    email.set_content(message["body"])
                    smtp.send_message(email)
                    self.sent += 1
        except (OSError, smtplib.SMTPException) as exc:
            self.failed += len(batch)
            warnings.warn(
                f"SMTP delivery to {cfg.host}:{cfg.port} failed ({exc}); "
                f"{len(batch)} message(s) stay in the outbox",
                DeliveryWarning,
                stacklevel=3,
            )
            return 0
        return len(batch)
