"""The settings one server runs with: where it listens, who may call it, and its limits."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
TOKEN_ENV = "CBT_SERVE_TOKEN"
MODEL_ID = "cbt-student"


def is_loopback(host: str) -> bool:
    """True for an address (or `localhost`) that only this machine can reach."""
    if host.strip("[]").lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServeConfig:
    """What `cbt-infer serve` was started with (the command's options)."""

    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None       # required on every request when set
    max_body: int = 64 * 1024      # bytes of one request body
    max_chars: int = 4000          # characters of the text one generation is asked about
    queue: int = 4                 # requests waiting for the generation slot; more get 429
    max_new_tokens: int = 384      # the most tokens one answer may have
    log_content: bool = False      # log what people wrote and what the model answered
    model_id: str = MODEL_ID       # the name /v1/models gives the student

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)
