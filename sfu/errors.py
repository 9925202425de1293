"""What the media layer refuses; the signaling edge turns these into wire errors."""
from __future__ import annotations


class SfuError(Exception):
    code = "sfu_error"


class BadSdp(SfuError):
    code = "bad_sdp"


class ClosedError(SfuError):
    code = "closed"
