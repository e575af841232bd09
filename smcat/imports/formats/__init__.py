"""The outside tools' outputs `smcat import posts` and `smcat import comments` read: one module
per tool, each opening its files into records and reading a record into the crawler's items."""

from __future__ import annotations

from smcat.imports.formats import mediacrawler, table, weibo_crawler, weibospider
from smcat.imports.formats.base import Format

FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        weibo_crawler.FORMAT,
        weibospider.FORMAT,
        mediacrawler.WEIBO_FORMAT,
        mediacrawler.DOUYIN_FORMAT,
        table.FORMAT,
    )
}
