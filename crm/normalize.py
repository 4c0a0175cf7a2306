"""How names, phones and e-mails are compared for the duplicate check (查重).

Pure functions: the same rules serve forms, the API and imports, and the results are
stored on the rows (indexed) so a duplicate check is one indexed lookup.
"""

import re
import unicodedata

# Trailing words that do not distinguish one company from another.
_LATIN_SUFFIXES = {
    "co",
    "company",
    "corp",
    "corporation",
    "inc",
    "incorporated",
    "llc",
    "ltd",
    "limited",
    "plc",
    "gmbh",
    "ag",
    "sa",
    "bv",
    "pte",
    "group",
    "holdings",
}
_CJK_SUFFIXES = (
    "集团股份有限公司",
    "股份有限公司",
    "集团有限公司",
    "有限责任公司",
    "有限公司",
    "集团公司",
    "公司",
    "集团",
)
_PUNCTUATION = re.compile(r"[\W_]+", re.UNICODE)


def normalize_company_name(name: str) -> str:
    """'ACME Co., Ltd.' → 'acme'; '华为技术有限公司' → '华为技术'; full-width folds to half-width."""
    text = unicodedata.normalize("NFKC", name or "").casefold()
    tokens = [token for token in _PUNCTUATION.split(text) if token]
    while len(tokens) > 1 and tokens[-1] in _LATIN_SUFFIXES:
        tokens.pop()
    joined = "".join(tokens)
    stripped = True
    while stripped and joined not in _CJK_SUFFIXES:  # a name that is only a suffix stays whole
        stripped = False
        for suffix in _CJK_SUFFIXES:
            if joined.endswith(suffix) and len(joined) > len(suffix):
                joined = joined[: -len(suffix)]
                stripped = True
                break
    return joined


def phone_digits(phone: str) -> str:
    """Digits only, full-width folded, China's country code dropped: '+86 138-0013-8000' → '13800138000'."""
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", phone or "") if ch.isdigit())
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def normalize_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email or "").strip().casefold()
