"""`smcat import customers`: a system's customer records (member id, name, phone, email,
address, birth year, registration time), with the personal data protected on the way in
(smcat.imports.pii): hashes and comparison features by default, clear values only on request."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crawler.pseudonyms import Pseudonymizer
from smcat.imports.commerce import rejects_by_row, with_offset
from smcat.imports.mapped import read_mapped
from smcat.imports.pii import protected_record
from smcat.store import Store

FIELDS = ("record_id", "name", "phone", "email", "address", "city", "district", "birth_year",
          "registered_at")  # fmt: skip
# the headers of common Chinese exports (shops, CRMs) and English synonyms
ALIASES = {
    "member_id": "record_id", "customer_id": "record_id", "会员ID": "record_id",
    "会员id": "record_id", "会员号": "record_id", "客户ID": "record_id", "客户编号": "record_id",
    "姓名": "name", "名字": "name", "客户姓名": "name", "收货人": "name",
    "手机": "phone", "手机号": "phone", "手机号码": "phone", "电话": "phone", "mobile": "phone",
    "邮箱": "email", "电子邮件": "email", "电子邮箱": "email",
    "地址": "address", "收货地址": "address", "城市": "city", "区县": "district",
    "出生年份": "birth_year", "出生日期": "birth_year", "生日": "birth_year",
    "birthday": "birth_year", "注册时间": "registered_at", "registered": "registered_at",
}  # fmt: skip


@dataclass(frozen=True)
class CustomerImport:
    """What an import of customer records did: records stored, rows rejected (row number
    and why), and whether clear personal data was kept."""

    path: Path
    system: str
    stored: int
    rejects: list[tuple[int, str]]
    kept_pii: bool


def import_customers(
    store: Store,
    path: Path,
    system: str,
    salt: str,
    *,
    mapping: Path | None = None,
    keep_pii: bool = False,
    utc_offset: str = "+08:00",
) -> CustomerImport:
    """Import a system's customer records from a CSV, XLSX or JSONL file.

    Names, phones, emails and addresses are normalised and stored as keyed hashes under
    `salt` (the project's pseudonym_salt; an SmcatError naming the setting if it is missing),
    with the features `smcat link people` compares; the clear values only with `keep_pii`
    (without it, clear values an earlier import kept of these records are dropped).
    Registration times without an offset are taken as at `utc_offset`."""
    pseudonyms = Pseudonymizer(salt)
    rows = read_mapped(path, FIELDS, ("record_id",), ALIASES, mapping, "a customers file")
    records = []
    for row in rows:
        record = protected_record(row, pseudonyms, keep_pii=keep_pii)
        if record.get("registered_at"):
            record["registered_at"] = with_offset(str(record["registered_at"]), utc_offset)
        records.append({**record, "system": system})
    result = store.upsert_customer_records(records)
    if not keep_pii:  # an upsert keeps what a row lacks: clear values of an earlier import
        store.forget_clear_values(system, (str(r["record_id"]) for r in records))
    return CustomerImport(path, system, result.stored, rejects_by_row(result), keep_pii)
