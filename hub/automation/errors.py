"""What goes wrong with automations, each naming the automation, the key (a dotted path) and the reason."""

from __future__ import annotations

from hub.exceptions import HubError


class AutomationError(HubError):
    """One automation refused: ``key`` is a dotted path into its configuration such as ``actions.2.action``."""

    def __init__(self, automation_id: str | None, key: str, reason: str, *, tenant_id: str | None = None) -> None:
        self.automation_id = automation_id
        self.key = key
        self.reason = reason
        #: The owner, when the entry's ``tenant:`` names a known tenant (None: platform administrators only).
        self.tenant_id = tenant_id
        where = f"automation {automation_id}" if automation_id else "automation"
        super().__init__(f"{where}: {key}: {reason}" if key else f"{where}: {reason}")

    def as_dict(self) -> dict[str, str | None]:
        return {
            "automation_id": self.automation_id,
            "key": self.key,
            "reason": self.reason,
            "tenant_id": self.tenant_id,
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AutomationError) and self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash((self.automation_id, self.key, self.reason))


class AutomationInvalid(HubError):
    """``save`` refused a configuration: ``errors`` says each thing wrong (the API answers 400 with them)."""

    def __init__(self, errors: list[AutomationError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(error) for error in errors))

    def fields(self) -> dict[str, str]:
        """``{key: reason}`` for an API answer."""
        return {error.key or "config": error.reason for error in self.errors}


class TemplateError(HubError):
    """A template could not be compiled or rendered; names the automation and where the template is."""

    def __init__(
        self,
        reason: str,
        *,
        automation_id: str | None = None,
        key: str = "",
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.reason = reason
        self.automation_id = automation_id
        self.key = key
        self.line = line
        self.column = column
        where = [f"automation {automation_id}"] if automation_id else []
        if key:
            where.append(key)
        if line is not None:
            where.append(f"line {line}" + (f", column {column}" if column is not None else ""))
        super().__init__(f"{': '.join(where)}: {reason}" if where else reason)


class ScriptStopped(HubError):
    """A ``stop`` action ended the run (``error`` true makes the run's result ``error``)."""

    def __init__(self, reason: str, *, error: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error
