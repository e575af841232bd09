"""The error of an analysis whose fix is one of its settings."""

from __future__ import annotations

from smcat.errors import SmcatError


class SettingError(SmcatError):
    """An analysis that cannot run as set up, or on this data, where a setting is the fix.

    The message speaks of the problem and the fix in words, never of command-line options;
    `settings` maps the parameters the fix changes to the value to give them (None: the
    caller's choice), so that a command line can name its own options for them."""

    def __init__(self, message: str, **settings: object) -> None:
        super().__init__(message)
        self.settings = settings
