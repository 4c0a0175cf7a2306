"""The seeded objection catalog and its suggested answers (English and Chinese)."""

import importlib

from django.apps import apps
from django.urls import reverse
from django.utils import translation

from activities.models import Objection
from crm import glossary
from crm.tests.factories import CustomerFactory

from .factories import log_call

catalog = importlib.import_module("activities.migrations.0002_objection_catalog")


def test_the_seven_classic_objections_are_seeded_with_answers_in_both_languages():
    objections = list(Objection.objects.order_by("order"))

    # in the method's own words (SPEC §6), as the glossary declares them
    assert [(o.name, o.name_zh) for o in objections] == list(glossary.CLASSIC_OBJECTIONS)
    assert all(len(o.answer) > 80 and len(o.answer_zh) > 30 for o in objections)
    assert all(o.answer.rstrip().endswith((".", "?", '"')) for o in objections)


def test_the_answer_follows_the_language():
    first = Objection.objects.get(order=1)

    with translation.override("zh-hans"):
        assert first.display_answer == first.answer_zh
    with translation.override("en"):
        assert first.display_answer == first.answer


def test_the_seed_is_reversible_and_keeps_objections_in_use(personas):
    in_use = Objection.objects.get(order=6)
    log_call(CustomerFactory(owner=personas.salesperson), objection=in_use)

    catalog.remove_objections(apps, schema_editor=None)
    assert list(Objection.objects.all()) == [in_use]
    catalog.seed_objections(apps, schema_editor=None)
    assert Objection.objects.count() == 7


def test_inactive_objections_are_not_offered(client_as, personas):
    customer = CustomerFactory(owner=personas.salesperson)
    Objection.objects.filter(order=2).update(active=False)

    html = (
        client_as("salesperson").get(reverse("activities:log-activity", args=[customer.pk])).content.decode()
    )
    api = client_as("salesperson").get(reverse("objection-list")).json()

    assert Objection.objects.get(order=2).name not in html
    assert len(api) == 6
