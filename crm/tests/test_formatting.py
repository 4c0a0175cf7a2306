"""The formatting tags that pages share."""

from decimal import Decimal

import pytest
from django.utils import translation

from crm.templatetags.formatting import money, select_options


def test_select_options_escape_labels_and_mark_the_chosen_one():
    html = select_options([(1, "Li Na", False), (2, "<b>Wang & Co</b>", True)])
    assert html == (
        '<option value="1">Li Na</option><option value="2" selected>&lt;b&gt;Wang &amp; Co&lt;/b&gt;</option>'
    )


def test_select_options_of_nothing_is_empty():
    assert select_options([]) == ""


# ``money``: the one way pages show an amount (static/js/charts.js follows the same rule).
MONEY_IN_ENGLISH = [
    (None, "—"),
    ("", "—"),
    (0, "¥0"),
    (Decimal("0.00"), "¥0"),
    (Decimal("-0.4"), "¥0"),
    (9999, "¥9,999"),
    (10000, "¥10,000"),
    (Decimal("1234.50"), "¥1,235"),
    (123456789, "¥123,456,789"),
    (-12345, "-¥12,345"),
    (Decimal("1000000.00"), "¥1,000,000"),
]
MONEY_IN_CHINESE = [
    (None, "—"),
    (0, "¥0"),
    (Decimal("0.00"), "¥0"),
    (9999, "¥9,999"),
    (Decimal("9999.5"), "¥1万"),  # rounds to ¥10,000: counted in 万
    (10000, "¥1万"),
    (12345, "¥1.23万"),
    (12350, "¥1.24万"),  # half-way rounds up
    (Decimal("1234567.89"), "¥123.46万"),
    (Decimal("1000000.00"), "¥100万"),
    (99_999_999, "¥1亿"),  # not ¥10000万
    (100_000_000, "¥1亿"),
    (123456789, "¥1.23亿"),
    (-12345, "-¥1.23万"),
    (-123456789, "-¥1.23亿"),
]


@pytest.mark.parametrize(("value", "shown"), MONEY_IN_ENGLISH)
def test_money_in_english_is_the_full_amount_with_separators(value, shown):
    with translation.override("en"):
        assert money(value) == shown


@pytest.mark.parametrize(("value", "shown"), MONEY_IN_CHINESE)
def test_money_in_chinese_counts_in_wan_and_yi(value, shown):
    with translation.override("zh-hans"):
        assert money(value) == shown


def test_money_leaves_what_is_not_a_number_as_it_is():
    assert money("n/a") == "n/a"
