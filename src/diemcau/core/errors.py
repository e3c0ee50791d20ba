"""Domain errors that pages and the API turn into clear, field-level messages."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RuleViolation(Exception):
    """A rule of the active rulebook refused the action.

    `article` names the article and the rulebook ("Điều 8.2 Quy chế KH"), `message` says what
    was wrong in the user's language, `field` names the form/API field it belongs to, if any.
    """

    code: str
    article: str
    message: str
    field: str | None = None

    def __str__(self) -> str:
        return f"{self.article}: {self.message}" if self.article else self.message


@dataclass
class PermissionDenied(Exception):
    """The user's role or agency scope does not allow the action (R22)."""

    action: str
    message: str = ""

    def __str__(self) -> str:
        # Never the internal action id: a refusal without a reason of its own names the
        # action in words, in the reader's language.
        if self.message:
            return self.message
        from .permissions import denial_message

        return denial_message(self.action)


@dataclass
class InvalidInput(Exception):
    """Input that is wrong on its own, independent of any rulebook: {field: [messages]}."""

    errors: dict[str, list[str]] = field(default_factory=dict)

    def __str__(self) -> str:
        return "; ".join(f"{k}: {', '.join(v)}" for k, v in self.errors.items())


@dataclass
class InvalidTransition(Exception):
    """An object is not in a state from which the action can be taken."""

    message: str

    def __str__(self) -> str:
        return self.message
