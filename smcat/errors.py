"""The error every smcat failure that a user can fix is raised as."""


class SmcatError(Exception):
    """A failure the user can fix; the message is one line that names the fix."""
