"""No template line is longer than 160 characters (issue 19): a long tag breaks between its
attributes, a long sentence goes in a {% blocktranslate trimmed %} that spans lines."""

from pathlib import Path

from django.conf import settings

TEMPLATES = Path(settings.BASE_DIR) / "templates"
LIMIT = 160

# Lines that only an attribute value makes long (a class chosen by {% if %}, JSON, an SVG path):
# breaking them would break the value. Each names a text the long line contains.
UNBREAKABLE = {
    "activities/_state_badge.html": ["class=\"badge {% if state == 'approved'"],
    "imports/_state_badge.html": ["class=\"badge {% if batch.state == 'done'"],
    "base.html": ['content=\'{"includeIndicatorStyles"', 'd="M8 16a2'],
    "reports/_status.html": ["class=\"badge {% if status == 'exceeded'"],
}


def _templates() -> dict[str, list[str]]:
    return {
        path.relative_to(TEMPLATES).as_posix(): path.read_text("utf-8").splitlines()
        for path in sorted(TEMPLATES.rglob("*.html"))
    }


def test_no_template_line_is_longer_than_160_characters():
    too_long = [
        f"{name}:{number} ({len(line)} characters)"
        for name, lines in _templates().items()
        for number, line in enumerate(lines, start=1)
        if len(line) > LIMIT and not any(text in line for text in UNBREAKABLE.get(name, []))
    ]
    assert not too_long, "break these template lines:\n" + "\n".join(too_long)


def test_every_unbreakable_line_is_still_there_and_still_long():
    templates = _templates()
    stale = [
        f"{name}: {text}"
        for name, texts in UNBREAKABLE.items()
        for text in texts
        if not any(text in line and len(line) > LIMIT for line in templates.get(name, []))
    ]
    assert not stale, "drop these exceptions:\n" + "\n".join(stale)
