"""The demo and its test infrastructure: `run_demo` (the main job end to end on the bundled
fixtures, see `smcat.demo.run`) and the loopback replay server it crawls (`smcat.demo.replay`),
which the tests and benchmarks use too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smcat.demo.run import DemoResult, run_demo

__all__ = ["DemoResult", "run_demo"]


def __getattr__(name: str) -> Any:
    # loaded on first use: the replay server (stdlib only) must not pull in Scrapy, the coder
    # and the models with it, as every test and `python -m smcat.demo.replay` import it
    if name in __all__:
        from smcat.demo import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
