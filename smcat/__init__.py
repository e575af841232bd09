"""smcat: capture, code and model brand marketing on Chinese social media.

The public Python API, one name per step of a study (see the README's "Python API"):

    import smcat

    settings = smcat.load_settings({"db": "brands.db"})
    smcat.crawl.weibo_user(settings, ["5001000001"], since="2025-09-01", until="2025-11-30")
    with smcat.Store.open(settings.db) as store:
        smcat.auto_code(store, smcat.load_codebook(smcat.default_codebook_path()))
        report = smcat.run_suite(store, models=("nb",))

Each name is imported when first used, so that `import smcat` (and every `smcat` command)
starts without loading Scrapy, jieba or the model libraries.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name: the module that defines it ("" where the name is the module itself)
_PUBLIC: dict[str, tuple[str, str]] = {
    "Settings": ("smcat.config", "Settings"),
    "load_settings": ("smcat.config", "load_settings"),
    "SmcatError": ("smcat.errors", "SmcatError"),
    "SettingError": ("smcat.errors", "SettingError"),
    "Store": ("smcat.store", "Store"),
    "export_table": ("smcat.export", "export_table"),
    "crawl": ("crawler.crawl", ""),
    "import_streamers": ("smcat.imports.streamers", "import_streamers"),
    "import_commerce": ("smcat.imports.commerce", "import_commerce"),
    "load_codebook": ("coding.codebook", "load_codebook"),
    "default_codebook_path": ("coding.codebook", "default_codebook_path"),
    "Tagger": ("coding.tagger", "Tagger"),
    "auto_code": ("coding.autocode", "auto_code"),
    "reliability_data": ("coding.reliability", "reliability_data"),
    "reliability_table": ("coding.reliability", "reliability_table"),
    "model_frame": ("analysis.frame", "model_frame"),
    "fit": ("analysis.effects", "fit"),
    "run_suite": ("analysis.suite", "run_suite"),
    "write_report": ("analysis.report", "write_report"),
    "run_demo": ("smcat.demo", "run_demo"),
}

__all__ = ["__version__", *_PUBLIC]

if TYPE_CHECKING:  # the names for type checkers ('x as x': re-exported)
    from analysis.effects import fit as fit
    from analysis.frame import model_frame as model_frame
    from analysis.report import write_report as write_report
    from analysis.suite import run_suite as run_suite
    from coding.autocode import auto_code as auto_code
    from coding.codebook import (
        default_codebook_path as default_codebook_path,
    )
    from coding.codebook import (
        load_codebook as load_codebook,
    )
    from coding.reliability import (
        reliability_data as reliability_data,
    )
    from coding.reliability import (
        reliability_table as reliability_table,
    )
    from coding.tagger import Tagger as Tagger
    from crawler import crawl as crawl
    from smcat.config import Settings as Settings
    from smcat.config import load_settings as load_settings
    from smcat.demo import run_demo as run_demo
    from smcat.errors import SettingError as SettingError
    from smcat.errors import SmcatError as SmcatError
    from smcat.export import export_table as export_table
    from smcat.imports.commerce import import_commerce as import_commerce
    from smcat.imports.streamers import import_streamers as import_streamers
    from smcat.store import Store as Store


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    if name not in _PUBLIC:
        raise AttributeError(f"module 'smcat' has no attribute {name!r}")
    module, attribute = _PUBLIC[name]
    loaded = importlib.import_module(module)
    value = getattr(loaded, attribute) if attribute else loaded
    globals()[name] = value  # later uses skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
