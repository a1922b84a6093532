"""Time-based one-time passwords (RFC 6238, via pyotp) as an optional second factor."""
from __future__ import annotations

import hmac
import time

import pyotp

ISSUER = "市民咨询机器人"
DRIFT = 1          # accept the neighbouring 30-second steps too: phones' clocks drift


def new_secret() -> str:
    return pyotp.random_base32()


def uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def matching_step(secret: str, code, now: float | None = None) -> int | None:
    """The time step `code` belongs to (within the allowed drift), or None when it is wrong."""
    if not secret or not isinstance(code, str) or not code.strip().isdigit():
        return None
    totp, now = pyotp.TOTP(secret), time.time() if now is None else now
    step = totp.timecode(_dt(now))
    for offset in range(-DRIFT, DRIFT + 1):
        if hmac.compare_digest(totp.generate_otp(step + offset), code.strip()):
            return step + offset
    return None


def _dt(now: float):
    from datetime import datetime, timezone
    return datetime.fromtimestamp(now, tz=timezone.utc)
