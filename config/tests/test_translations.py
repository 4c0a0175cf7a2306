"""Every string in the Chinese catalogue is translated, and the compiled catalogue is
the one committed beside it (a page in Chinese never falls back to English)."""

import gettext
import json
import re
from pathlib import Path

from django.conf import settings

PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def _entries(text: str) -> list[str]:
    """The catalogue's entries (blank-line separated), without the header and obsolete ones."""
    blocks = [block for block in text.split("\n\n") if "msgid" in block]
    return [block for block in blocks[1:] if not block.lstrip().startswith("#~")]


def _joined(block: str, keyword: str) -> str:
    """The text of ``keyword`` (``msgstr``, ``msgstr[0]``…) with its continuation lines."""
    match = re.search(rf'^{re.escape(keyword)} "(.*)"\n((?:".*"\n?)*)', block + "\n", re.MULTILINE)
    if match is None:
        return ""
    return match.group(1) + "".join(re.findall(r'^"(.*)"$', match.group(2), re.MULTILINE))


def _text(escaped: str) -> str:
    return json.loads(f'"{escaped}"')  # .po strings escape like C, which JSON reads


def test_no_translation_is_fuzzy():
    fuzzy = [
        _joined(block, "msgid")
        for block in _entries(PO.read_text("utf-8"))
        if re.search(r"^#,.*\bfuzzy\b", block, re.MULTILINE)
    ]
    assert not fuzzy, f"fuzzy translations: {fuzzy[:5]}"


def test_every_message_has_a_chinese_translation():
    untranslated = []
    for block in _entries(PO.read_text("utf-8")):
        keyword = "msgstr[0]" if "msgid_plural" in block else "msgstr"
        if not _joined(block, keyword):
            untranslated.append(_joined(block, "msgid"))
    assert not untranslated, f"{len(untranslated)} untranslated: {untranslated[:10]}"


def test_the_compiled_catalogue_holds_every_message_of_its_source():
    with MO.open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)._catalog
    compiled_ids = {key[0] if isinstance(key, tuple) else key for key in catalog}
    source_ids = {_text(_joined(block, "msgid")) for block in _entries(PO.read_text("utf-8"))}
    missing = sorted(source_ids - compiled_ids)
    assert not missing, f"compile the catalogue (make messages): {missing[:5]}"
