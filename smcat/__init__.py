"""smcat: capture, code and model brand marketing on Chinese social media."""

__version__ = "0.1.0"
