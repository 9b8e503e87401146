"""Gateway errors as a hierarchy with codes (App.4 error table, ENV-04/05).

Domain code raises these; the SOAP edge turns them into a fault once.
Messages are safe to show to the sender: never put a password, a stack
trace or internal paths into them.
"""

from __future__ import annotations


class GatewayError(Exception):
    """An error the gateway channel reports with an App.4 code."""

    code = "SCE001"
    default_message = "Message does not conform to the format"

    def __init__(self, detail: str = "", *, sub_errors: list[GatewayError] | None = None):
        super().__init__(detail or self.default_message)
        self.detail = detail
        self.sub_errors = sub_errors or []

    @property
    def message(self) -> str:
        """Human message: the App.4 text, then what exactly was wrong."""
        return f"{self.default_message}: {self.detail}" if self.detail else self.default_message


class FormatError(GatewayError):
    code = "SCE001"
    default_message = "Message does not conform to the format"


class AuthenticationError(GatewayError):
    code = "SCE002"
    default_message = "Wrong login or password"


class NoRightError(GatewayError):
    code = "SCE003"
    default_message = "User has no rights to the service"


class NoServiceError(GatewayError):
    code = "SCE004"
    default_message = "Service does not exist"


class SignatureNotCurrentError(GatewayError):
    code = "SCE005"
    default_message = "Transport signature is not current"


class SignatureInvalidError(GatewayError):
    code = "SCE006"
    default_message = "Incorrect transport signature"


class NotSignedError(GatewayError):
    code = "SCE007"
    default_message = "Message is not signed"


class InternalError(GatewayError):
    """Our own failure; the sender may retry later (INT-13)."""

    code = "SCE909"
    default_message = "Internal error of the recipient system"


ALL_ERRORS: tuple[type[GatewayError], ...] = (
    FormatError,
    AuthenticationError,
    NoRightError,
    NoServiceError,
    SignatureNotCurrentError,
    SignatureInvalidError,
    NotSignedError,
    InternalError,
)
