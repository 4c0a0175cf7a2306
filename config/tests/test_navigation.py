"""The navigation every page shows: reversed and translated once per role and language
(config.context_processors), it must still follow the role, the language and the page."""

import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from config.context_processors import NAVIGATION


def _nav(html: str) -> list[tuple[str, str, bool]]:
    """(label, link, lit) of each navigation item."""
    return [
        (label, href, bool(current))
        for href, current, label in re.findall(
            r'<a class="nav-link(?: active)?" href="([^"]+)"( aria-current="page")?>([^<]+)</a>', html
        )
    ]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("role", ["salesperson", "manager"])
def test_each_role_sees_its_items_in_its_language_with_the_page_lit(client_as, role, language):
    client = client_as(role)
    client.cookies["django_language"] = language

    html = client.get(reverse("crm:customer-list")).content.decode()

    with translation.override(language):
        expected = [
            (escape(label), reverse(name), name == "crm:customer-list")
            for label, name, roles in NAVIGATION
            if role in roles
        ]
    assert _nav(html) == expected


def test_a_page_that_is_no_item_lights_its_apps_only_item(client_as, personas):
    html = client_as("manager").get(reverse("crm:customer-create")).content.decode()

    assert [label for label, _href, lit in _nav(html) if lit] == ["Customers"]


def test_the_language_switch_lists_each_language_with_the_current_one_chosen(client):
    client.cookies["django_language"] = "zh-hans"

    html = client.get(reverse("login")).content.decode()

    assert re.findall(r'<option value="([^"]+)"( selected)?>([^<]+)</option>', html) == [
        ("en", "", "English"),
        ("zh-hans", " selected", "简体中文"),
    ]
    assert f'action="{reverse("set_language")}"' in html
