"""One root exception. The CLI turns BadInput into one line and exit 2, other FollowupErrors into exit 1."""


class FollowupError(Exception):
    """Root of every error followup raises on purpose."""


class BadInput(FollowupError):
    """The user gave something we cannot accept. Nothing has been changed."""

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = problems or []
        super().__init__(message)

    def __str__(self) -> str:
        head = super().__str__()
        if not self.problems:
            return head
        return head + "\n" + "\n".join(f"  {p}" for p in self.problems)


class ConfigError(FollowupError):
    """A setting is missing or malformed. Raised once, at start."""


class NotFound(BadInput):
    """An id on the command line names nothing."""
