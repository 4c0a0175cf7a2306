"""The formatting tags that pages share."""
from crm.templatetags.formatting import select_options


def test_select_options_escape_labels_and_mark_the_chosen_one():
    html = select_options([(1, "Li Na", False), (2, "<b>Wang & Co</b>", True)])
    assert html == ('<option value="1">Li Na</option>'
                    '<option value="2" selected>&lt;b&gt;Wang &amp; Co&lt;/b&gt;</option>')


def test_select_options_of_nothing_is_empty():
    assert select_options([]) == ""
