"""Declared options of problems and methods: defaults, units, help, validation.

Problems and methods declare their keyword options as a mapping ``name -> Option``.
The one splitter :func:`resolve_options` validates what a user passed against them
(``ValueError`` naming the unknown option and listing the valid ones), the CLI derives
its flags from them, and :func:`semopt.show_options` prints them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Option", "integer_at_least", "resolve_options"]


@dataclass(frozen=True)
class Option:
    """One keyword option.

    Attributes
    ----------
    default : Any
        Value used when the option is not given (``None``: "not set", see ``help``).
    help : str
        One line: what the option means, with its unit.
    unit : str, optional
        Unit of the value (``"W"``, ``"Hz"``, ``"bit"``); shown by ``show_options``.
    kind : str
        How the CLI reads a flag value: ``"float"``, ``"int"``, ``"bool"``, ``"str"``,
        ``"floats"`` / ``"ints"`` (comma-separated), ``"power"``, ``"bandwidths"``,
        or ``"object"`` (Python only, no flag).
    choices : tuple, optional
        Valid values.
    parse : callable, optional
        ``parse(value, name) -> value`` validating/converting a given value; raises
        ``ValueError`` naming the option.
    """

    default: Any
    help: str
    unit: str | None = None
    kind: str = "float"
    choices: tuple[Any, ...] | None = None
    parse: Callable[[Any, str], Any] | None = None

    def describe(self, name: str) -> str:
        unit = f" [{self.unit}]" if self.unit else ""
        choices = f" (one of {', '.join(map(str, self.choices))})" if self.choices else ""
        return f"{name}{unit} = {self.default!r}{choices}: {self.help}"


def resolve_options(declared: Mapping[str, Option], given: Mapping[str, Any],
                    owner: str) -> dict[str, Any]:
    """Validated values of every declared option (defaults filled in).

    Raises
    ------
    ValueError
        For an option ``declared`` does not know (listing the valid ones), or a value
        outside ``choices`` / rejected by the option's ``parse``.
    """
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown option for {owner}; valid options: "
                         f"{', '.join(sorted(declared)) or '(none)'}")
    out: dict[str, Any] = {}
    for name, option in declared.items():
        value = given.get(name, option.default)
        if name in given and value is not None:
            if option.choices is not None and value not in option.choices:
                raise ValueError(f"{name}: must be one of {', '.join(map(repr, option.choices))}, "
                                 f"got {value!r}")
            if option.parse is not None:
                value = option.parse(value, name)
        out[name] = value
    return out


def integer_at_least(minimum: int) -> Callable[[Any, str], int]:
    """An ``Option.parse`` accepting integers ≥ ``minimum`` (bools refused)."""

    def parse(value: Any, name: str) -> int:
        try:
            ok = not isinstance(value, bool) and int(value) == value and int(value) >= minimum
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok:
            raise ValueError(f"{name}: must be an integer ≥ {minimum}, got {value!r}")
        return int(value)

    return parse
