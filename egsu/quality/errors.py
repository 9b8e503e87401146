"""Why a correction step was refused: one hierarchy with codes, mapped to HTTP once, in the views."""

from __future__ import annotations


class CorrectionError(Exception):
    """A correction step the rules refuse; `code` is stable, the message is for people."""

    code = "correction"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidProposal(CorrectionError):
    """The proposal itself is wrong: no reason, no lines, unknown reading, unchanged value."""

    code = "invalid_proposal"


class WrongState(CorrectionError):
    """The act is no longer in a state that allows this step (already decided or withdrawn)."""

    code = "wrong_state"


class StaleReading(CorrectionError):
    """A reading got a newer revision after the proposal; agreeing would overwrite unseen data."""

    code = "stale_reading"


class ActPdfUnavailable(CorrectionError):
    """The act PDF cannot be built here (its fonts are missing)."""

    code = "act_pdf_unavailable"
