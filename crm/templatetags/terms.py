"""``{% term "DIALS" %}``: a word of the method from ``crm.glossary``, the one list that
pages, exports and API labels share. An unknown name fails loudly, never renders blank."""

from django import template

from crm import glossary

register = template.Library()


@register.simple_tag
def term(name: str) -> str:
    return str(getattr(glossary, name))
