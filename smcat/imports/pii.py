"""Personal data of customer records, normalised so that one person's records in different
systems compare equal, then kept as keyed hashes (HMAC-SHA256 under the project's
pseudonym_salt) beside the features record linkage compares: the name's pinyin and surname, a
phone's last four digits, city, district and birth year.

Normalising: phones keep their digits, less a +86/0086 country code; emails are lower-case;
names are Simplified (Traditional characters converted), without spaces or middle dots; a
name written in pinyin ("ZHANG Wei", "zhangwei") gives the same pinyin as its characters.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from crawler.pseudonyms import Pseudonymizer

PII_FIELDS = ("name", "phone", "email", "address")
_DOTS = re.compile(r"[\s·•・‧．.]+")
_LATIN = re.compile(r"^[A-Za-z\s·.'-]+$")
_PROVINCE = re.compile(r"^(.{2,3}?(?:省|自治区))")
_CITY = re.compile(r"^(.{2,4}?)市")
_DISTRICT = re.compile(r"^(.{1,5}?(?:区|县|旗))")
_MUNICIPALITIES = ("北京", "上海", "天津", "重庆")
# two-character surnames, which the first character alone would cut in half
_COMPOUND_SURNAMES = frozenset(
    ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙",
     "宇文", "司徒", "夏侯", "轩辕", "端木")
)  # fmt: skip


@functools.cache
def _to_simplified() -> Any:
    from opencc import OpenCC  # loads its dictionaries: only when a name or address needs it

    return OpenCC("t2s")


def simplified(text: str) -> str:
    """Traditional characters of a text as Simplified."""
    return str(_to_simplified().convert(text))


def normalise_phone(phone: str | None) -> str | None:
    """A phone number's digits without a +86 or 0086 country code; None if it has no digits."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits or None


def normalise_email(email: str | None) -> str | None:
    """An email address trimmed and in lower case; None if empty."""
    return (email or "").strip().lower() or None


def normalise_name(name: str | None) -> str | None:
    """A name in Simplified characters without spaces or middle dots (a pinyin name: lower
    case, its words kept apart by one space); None if empty."""
    text = (name or "").strip()
    if not text:
        return None
    if _LATIN.match(text):
        return " ".join(re.split(r"[\s·.'-]+", text.lower())).strip() or None
    return _DOTS.sub("", simplified(text)) or None


def name_features(name: str | None) -> tuple[str | None, str | None]:
    """A normalised name's pinyin (syllables run together, no tones) and its surname's pinyin
    (None for a pinyin name written as one word, whose surname cannot be told)."""
    if not name:
        return None, None
    if _LATIN.match(name):
        words = name.split()
        return "".join(words), words[0] if len(words) > 1 else None
    from pypinyin import lazy_pinyin  # its dictionaries take a moment to load

    syllables = lazy_pinyin(name)
    surname_length = 2 if name[:2] in _COMPOUND_SURNAMES else 1
    return "".join(syllables), "".join(syllables[:surname_length])


def address_parts(address: str | None) -> tuple[str | None, str | None, str | None]:
    """An address normalised (Simplified, no spaces), and its city and district without their
    suffix 市 (a district keeps 区 or 县): "浙江省杭州市西湖区文三路1号" gives "杭州", "西湖区"."""
    text = re.sub(r"\s+", "", simplified(address or ""))
    if not text:
        return None, None, None
    rest = text
    if found := _PROVINCE.match(rest):
        rest = rest[found.end() :]
    city = None
    if found := _CITY.match(rest):
        city, rest = found[1], rest[found.end() :]
    elif rest[:2] in _MUNICIPALITIES:
        city, rest = rest[:2], rest[2:]
    found = _DISTRICT.match(rest)
    return text, city, found[1] if found else None


def birth_year(value: str | None) -> str | None:
    """The year of a birth year or date ("1990", "1990-05-01", "1990/5/1"), as written if it
    has none (the store rejects the row then)."""
    text = (value or "").strip()
    found = re.match(r"^(\d{4})(?:\D|$)", text)
    return found[1] if found else (text or None)


def protected_record(
    row: Mapping[str, Any], pseudonyms: Pseudonymizer, *, keep_pii: bool = False
) -> dict[str, Any]:
    """A customer record's fields as customer_records stores them: name, phone, email and
    address normalised and hashed (each field keyed apart), the comparison features, and the
    clear values only with `keep_pii`. Other fields of the row are passed on as they are."""
    name = normalise_name(row.get("name"))
    phone = normalise_phone(row.get("phone"))
    email = normalise_email(row.get("email"))
    address, city, district = address_parts(row.get("address"))
    pinyin, surname = name_features(name)
    clear = {"name": name, "phone": phone, "email": email, "address": address}
    kept = {k: v for k, v in row.items() if k not in (*PII_FIELDS, "city", "district")}
    return {
        **kept,
        **{f"{k}_hash": pseudonyms.pseudonym(f"{k}:{v}") if v else None for k, v in clear.items()},
        "name_pinyin": pinyin,
        "surname": surname,
        "phone_tail": phone[-4:] if phone and len(phone) >= 7 else None,
        "city": _city(row.get("city")) or city,
        "district": simplified(str(row.get("district") or "")).strip() or district,
        "birth_year": birth_year(row.get("birth_year")),
        **(clear if keep_pii else {}),
    }


def _city(value: str | None) -> str | None:
    text = simplified((value or "").strip())
    return text.removesuffix("市") or None
