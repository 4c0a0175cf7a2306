"""The team's day (managers and admins): who checked in where and when, how far from the
customer, for how long, and each person's planned visits against their check-ins. A
list with distances, no map: it reads the same offline and on a phone."""

from datetime import timedelta

from django import forms
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from crm.filters import MAX_ID

from . import selectors


class TeamDayForm(forms.Form):
    """Which day and whose visits. The owner's choices are the people of the day's
    summary (the selector reads them), so the view checks the choice against them."""

    date = forms.DateField(label=gettext_lazy("Day"), required=False)
    owner = forms.IntegerField(
        label=gettext_lazy("Salesperson"), required=False, min_value=1, max_value=MAX_ID
    )


class TeamDayView(View):
    """``/visits/team/?date=&owner=``: the team's check-ins of a day (managers and
    admins; salespeople see their own visits on their visit pages: 403 here)."""

    def get(self, request):
        if not request.user.is_manager_or_admin:
            raise PermissionDenied
        form = TeamDayForm(request.GET)
        form.is_valid()  # a bad value is shown on its field; the page falls back to the default
        day = form.cleaned_data.get("date") or timezone.localdate()
        owner_id = form.cleaned_data.get("owner")
        team = selectors.team_day(request.user, day, owner_id=owner_id)
        if team.unknown_owner:
            form.add_error("owner", _("Choose someone of your team."))
        return render(
            request,
            "activities/team_day.html",
            {
                "form": form,
                "team": team,
                "day": day,
                "previous_day": day - timedelta(days=1),
                "next_day": day + timedelta(days=1),
                "today": timezone.localdate(),
            },
        )
