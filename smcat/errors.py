"""The errors every smcat failure that a user can fix is raised as."""

from __future__ import annotations


class SmcatError(Exception):
    """A failure the user can fix; the message is one line that names the fix."""


class SettingError(SmcatError):
    """A failure whose fix is a different setting of the call that failed.

    The message speaks of the problem and the fix in words, never of command-line options;
    `settings` maps the parameters the fix changes to the value to give them (None: the
    caller's choice), so that a command line can name its own options for them
    (`smcat.cli_common.naming_options`)."""

    def __init__(self, message: str, **settings: object) -> None:
        super().__init__(message)
        self.settings = settings
