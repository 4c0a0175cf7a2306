"""Import of activities (calls, visits… from the old spreadsheet), registered in the
shared import machinery of ``crm.importing`` (batches, reading, preview, progress, task).

Each row is checked in memory against lookups loaded with a constant number of queries
(the customers the importer can see, by ID and normalized name; their contacts; the
objection catalog; users by username; the activities those customers already have, for
the duplicate check), with the rules of ``activities.services.log_activity``: a call
needs a next follow-up date, nothing is logged in the future, no negative expense, and
a call that was only dialled is stored as not effective (``effective_for``).
A row that repeats an existing activity (same customer, salesperson, channel and time)
or an earlier row of the file is skipped as a duplicate.

``commit`` bulk-inserts the activities (traced by ``Activity.import_batch``) and moves
each customer's last activity / last call / last visit / next follow-up forward when
the imported activities are newer — what ``crm.services.record_contact`` does one at a
time. Handover tasks and plan items are not ticked: imported activities are history.
"""

from collections import defaultdict
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.importing import cells
from crm.importing.registry import Column, Importer, Plan, PlannedRow
from crm.models import Contact, Customer, User
from crm.normalize import normalize_company_name

from .models import Activity, ActivityKind, CallStage, Objection, Purpose
from .services import effective_for

BATCH_SIZE = 1000
PROGRESS_EVERY = 500
FUTURE_TOLERANCE = timedelta(minutes=10)

COLUMNS = (
    Column(
        "customer_id",
        "Customer ID",
        "客户编号",
        help=gettext_lazy("The customer's ID, or leave empty and give its name."),
    ),
    Column("customer", "Customer*", "客户名称*", required=True),
    Column("contact", "Contact", "联系人", help=gettext_lazy("Name of a contact of that customer.")),
    Column("kind", "Channel*", "方式*", help=gettext_lazy("call, visit, email, message, fax or meeting.")),
    Column("started_at", "When*", "时间*", help=gettext_lazy("2025-03-31 14:30")),
    Column("duration", "Duration (minutes)", "时长(分钟)"),
    Column(
        "purpose",
        "Purpose*",
        "目的*",
        help=gettext_lazy(
            "new_development, market_research, collection, service, complaint, order or other."
        ),
    ),
    Column("outcome", "Outcome", "结果"),
    Column(
        "call_stage",
        "Call stage",
        "通话进度",
        help=gettext_lazy("Calls only: dialled, connected, appointment or presentation. Empty: connected."),
    ),
    Column("effective", "Effective", "有效拜访", help=gettext_lazy("yes or no.")),
    Column("objection", "Objection", "拒绝理由", help=gettext_lazy("As named in the objection catalog.")),
    Column(
        "next_follow_up_on",
        "Next follow-up",
        "下次跟进日期",
        help=gettext_lazy("Required for calls. 2025-04-07"),
    ),
    Column("competitor_news", "Competitor news", "竞争对手信息"),
    Column("expense", "Expense (CNY)", "费用(元)"),
    Column(
        "owner",
        "Salesperson (username)",
        "业务员(用户名)",
        help=gettext_lazy("Empty: you. Managers may name their team."),
    ),
)
HEADERS = {column.key: column for column in COLUMNS}
KIND_WORDS = {
    "电话": ActivityKind.CALL,
    "拜访": ActivityKind.VISIT,
    "上门": ActivityKind.VISIT,
    "邮件": ActivityKind.EMAIL,
    "短信": ActivityKind.MESSAGE,
    "微信": ActivityKind.MESSAGE,
    "传真": ActivityKind.FAX,
    "会议": ActivityKind.MEETING,
}
# Call stages are read as their names ("dialled"…), their labels or these words.
CALL_STAGE_WORDS = {
    "dialled": "dialled",
    "connected": "connected",
    "未接通": "dialled",
    "无人接听": "dialled",
    "接通": "connected",
    "已接通": "connected",
    "appointment": "appointment",
    "presentation": "presentation",
}
PURPOSE_WORDS = {
    "新客户开发": Purpose.NEW_DEVELOPMENT,
    "开发": Purpose.NEW_DEVELOPMENT,
    "市场调查": Purpose.MARKET_RESEARCH,
    "收款": Purpose.COLLECTION,
    "服务": Purpose.SERVICE,
    "客诉": Purpose.COMPLAINT,
    "投诉": Purpose.COMPLAINT,
    "订单": Purpose.ORDER,
    "其他": Purpose.OTHER,
}


class _Lookups:
    def __init__(self, user: User, rows):
        self.users = {
            u.username.casefold(): u
            for u in User.objects.only(
                "pk", "username", "first_name", "last_name", "team_id", "role", "is_active"
            )
        }
        visible = (
            Customer.objects.visible_to(user)
            .live()
            .only(
                "pk",
                "name",
                "name_normalized",
                "last_activity_at",
                "last_call_at",
                "last_visit_at",
                "next_follow_up_on",
            )
        )
        self.customers = {customer.pk: customer for customer in visible}
        self.by_name = {customer.name_normalized: customer for customer in self.customers.values()}
        ids = list(self.customers)
        self.contacts: dict[tuple[int, str], Contact] = {}
        self.existing: set[tuple] = set()
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            for contact in Contact.objects.filter(customer_id__in=chunk).only(
                "pk", "customer_id", "name", "role"
            ):
                self.contacts.setdefault((contact.customer_id, contact.name.strip().casefold()), contact)
        referenced = self._referenced_customers(rows)
        for start in range(0, len(referenced), 5000):
            chunk = referenced[start : start + 5000]
            self.existing.update(
                Activity.objects.filter(customer_id__in=chunk).values_list(
                    "customer_id", "owner_id", "kind", "started_at"
                )
            )
        self.objections = {}
        for objection in Objection.objects.filter(active=True):
            for word in (objection.name, objection.name_zh):
                if word:
                    self.objections[word.strip().casefold()] = objection

    def _referenced_customers(self, rows) -> list[int]:
        found = set()
        for _number, values in rows:
            customer = self.customer(values.get("customer_id"), values.get("customer"))
            if customer is not None:
                found.add(customer.pk)
        return sorted(found)

    def customer(self, raw_id, raw_name) -> Customer | None:
        if not cells.is_blank(raw_id):
            try:
                return self.customers.get(cells.parse_int(raw_id, minimum=1))
            except cells.CellError:
                return None
        if cells.is_blank(raw_name):
            return None
        return self.by_name.get(normalize_company_name(cells.text(raw_name)))


class ActivityImporter(Importer):
    kind = "activities"
    label = gettext_lazy("Activities (calls, visits…)")
    columns = COLUMNS

    def __init__(self):
        self._kinds = cells.choice_lookup(ActivityKind.choices)
        self._purposes = cells.choice_lookup(Purpose.choices)
        self._call_stages = {
            word: CallStage(value).name.lower()
            for word, value in cells.choice_lookup(CallStage.choices).items()
        }

    def plan(self, *, batch, user, rows, progress, headers=None) -> Plan:
        rows = list(rows)
        lookups = _Lookups(user, rows)
        seen: dict[tuple, int] = {}
        now = timezone.now()
        plan = Plan()
        for index, (number, values) in enumerate(rows, start=1):
            plan.rows.append(self._plan_row(number, values, user, lookups, seen, headers or {}, now))
            if index % PROGRESS_EVERY == 0:
                progress(index)
        progress(len(rows))
        return plan

    def _plan_row(self, number, values, user, lookups: _Lookups, seen, headers, now) -> PlannedRow:
        row = cells.RowCells(number, values, headers, HEADERS)
        customer = self._customer(row, lookups)
        kind, started_at, purpose, duration = self._what_and_when(row, now)
        next_follow_up_on = self._next_follow_up(row, kind, started_at)
        expense = row.get("expense", cells.parse_decimal, max_digits=10)
        contact = self._contact(row, customer, lookups)
        objection = self._objection(row, lookups)
        effective = row.get("effective", cells.parse_bool)
        call_stage = self._call_stage(row, kind)
        owner = (
            row.get(
                "owner",
                cells.parse_owner,
                users=lookups.users,
                by=user,
                own_name_only=_("You may import activities only in your own name."),
            )
            or user
        )
        label = customer.name if customer is not None else cells.text(values.get("customer"))
        if row.issues:
            return PlannedRow(number, "error", label=label, issues=row.issues)
        key = (customer.pk, owner.pk, kind, started_at)
        if key in lookups.existing:
            return PlannedRow(number, "duplicate", label=label, message=_("This activity is already logged."))
        if key in seen:
            return PlannedRow(
                number,
                "duplicate",
                label=label,
                message=_("Same activity as row %(row)s of this file.") % {"row": seen[key]},
            )
        seen[key] = number
        # As when logged by hand: an unconnected call is stored as not effective (the
        # spreadsheet's "yes" is overruled, not refused: the rest of the row is good history).
        effective = effective_for(kind=kind, call_stage=call_stage, contact=contact, requested=effective)
        return PlannedRow(
            number,
            "create",
            label=label,
            payload=Activity(
                owner=owner,
                customer=customer,
                contact=contact,
                kind=kind,
                started_at=started_at,
                duration_minutes=duration,
                purpose=purpose,
                call_stage=call_stage,
                outcome=row.get("outcome", cells.text) or "",
                effective=effective,
                objection=objection,
                next_follow_up_on=next_follow_up_on,
                competitor_news=row.get("competitor_news", cells.text) or "",
                expense=expense or 0,
                created_at=now,
            ),
        )

    @staticmethod
    def _customer(row: cells.RowCells, lookups: _Lookups) -> Customer | None:
        """The customer by ID, else by name: one the importer can see."""
        values = row.values
        customer = lookups.customer(values.get("customer_id"), values.get("customer"))
        if customer is None:
            named = cells.text(values.get("customer_id")) or cells.text(values.get("customer"))
            row.add_issue("customer", _("No customer “%(customer)s” that you can see.") % {"customer": named})
        return customer

    def _what_and_when(self, row: cells.RowCells, now):
        """Channel, time (not in the future), purpose and duration (at most a day)."""
        kind = row.get("kind", cells.parse_choice, lookup=self._kinds, extra=KIND_WORDS)
        row.require("kind", kind)
        started_at = row.get("started_at", cells.parse_datetime)
        row.require("started_at", started_at)
        if started_at is not None and started_at > now + FUTURE_TOLERANCE:
            row.add_issue("started_at", _("An activity is logged after it happened, not before."))
        purpose = row.get("purpose", cells.parse_choice, lookup=self._purposes, extra=PURPOSE_WORDS)
        row.require("purpose", purpose)
        duration = row.get("duration", cells.parse_int) or 0
        if duration > 24 * 60:
            row.add_issue("duration", _("At most one day (1440 minutes)."))
        return kind, started_at, purpose, duration

    @staticmethod
    def _next_follow_up(row: cells.RowCells, kind, started_at):
        """Every call agrees the next contact, never before the activity itself."""
        next_follow_up_on = row.get("next_follow_up_on", cells.parse_date)
        if (
            kind == ActivityKind.CALL
            and next_follow_up_on is None
            and not row.values.get("next_follow_up_on")
        ):
            row.add_issue(
                "next_follow_up_on", _("Agree the next contact: every call needs a next follow-up date.")
            )
        if next_follow_up_on and started_at and next_follow_up_on < timezone.localtime(started_at).date():
            row.add_issue("next_follow_up_on", _("The next follow-up cannot be before the activity."))
        return next_follow_up_on

    @staticmethod
    def _contact(row: cells.RowCells, customer: Customer | None, lookups: _Lookups) -> Contact | None:
        contact_name = row.get("contact", cells.text)
        if not contact_name or customer is None:
            return None
        contact = lookups.contacts.get((customer.pk, contact_name.casefold()))
        if contact is None:
            row.add_issue(
                "contact",
                _("“%(contact)s” is not a contact of %(customer)s.")
                % {"contact": contact_name, "customer": customer.name},
            )
        return contact

    @staticmethod
    def _objection(row: cells.RowCells, lookups: _Lookups) -> Objection | None:
        objection_name = row.get("objection", cells.text)
        if not objection_name:
            return None
        objection = lookups.objections.get(objection_name.casefold())
        if objection is None:
            row.add_issue(
                "objection",
                _("“%(objection)s” is not in the objection catalog.") % {"objection": objection_name},
            )
        return objection

    def _call_stage(self, row: cells.RowCells, kind):
        """A call's stage (empty: connected); other channels have none."""
        call_stage = row.get(
            "call_stage", cells.parse_choice, lookup=self._call_stages, extra=CALL_STAGE_WORDS
        )
        if kind == ActivityKind.CALL:
            return CallStage[(call_stage or "connected").upper()]
        if call_stage is not None and kind is not None:
            row.add_issue("call_stage", _("Only calls have a call stage."))
        return call_stage

    def commit(self, *, batch, user, plan: Plan, progress) -> tuple[int, int]:
        activities = [row.payload for row in plan.of("create")]
        for activity in activities:
            activity.import_batch = batch
        Activity.objects.bulk_create(activities, batch_size=BATCH_SIZE)
        progress(len(activities))
        self._move_customer_dates(activities)
        return len(activities), 0

    @staticmethod
    def _move_customer_dates(activities) -> None:
        """Like ``crm.services.record_contact`` for many activities: dates only move forward."""
        by_customer = defaultdict(list)
        for activity in activities:
            by_customer[activity.customer_id].append(activity)
        changed = []
        for items in by_customer.values():
            customer = items[0].customer
            newest = max(items, key=lambda a: a.started_at)
            touched = False
            if customer.last_activity_at is None or newest.started_at > customer.last_activity_at:
                customer.last_activity_at = newest.started_at
                if newest.next_follow_up_on is not None:
                    customer.next_follow_up_on = newest.next_follow_up_on
                touched = True
            for kind, field in ((ActivityKind.CALL, "last_call_at"), (ActivityKind.VISIT, "last_visit_at")):
                times = [a.started_at for a in items if a.kind == kind]
                if times and (getattr(customer, field) is None or max(times) > getattr(customer, field)):
                    setattr(customer, field, max(times))
                    touched = True
            if touched:
                changed.append(customer)
        Customer.objects.bulk_update(
            changed,
            ["last_activity_at", "next_follow_up_on", "last_call_at", "last_visit_at"],
            batch_size=BATCH_SIZE,
        )
