"""The API's JSON parser: a request body is bounded in size and in nesting before it is parsed.

DRF reads a JSON body straight from the request stream, so Django's
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (which bounds ``request.body`` and form fields) never
applied to it; and Python's ``json`` recurses once per level of nesting, so a body nested
50,000 deep ended in a ``RecursionError``: a 500. Both now answer 400 with a message.
"""

import re
from itertools import accumulate

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

# A JSON string (escapes included): the brackets inside one are text, not structure.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in a JSON text, found without parsing it (and
    without recursion): the running count of opening less closing brackets outside
    strings. For text that is not JSON it is an estimate, which ``json`` then refuses."""
    brackets = _NOT_A_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, refusing (400) a body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE``
    or nested deeper than ``JSON_MAX_DEPTH`` before ``json`` reads it."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(body) > limit:
            raise ParseError(
                _("The request body is larger than %(limit)s bytes; the most the API takes is %(limit)s.")
                % {"limit": f"{limit:,}"}
            )
        try:
            text = body.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from exc
        depth_limit = settings.JSON_MAX_DEPTH
        if nesting_depth(text) > depth_limit:
            raise ParseError(
                _("The JSON body nests more than %(limit)s levels deep; the most the API takes is %(limit)s.")
                % {"limit": depth_limit}
            )
        try:
            return json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except ValueError as exc:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from exc
