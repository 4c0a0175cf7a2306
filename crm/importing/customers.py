"""Import of customers, each row optionally with one contact.

The preview and the commit share ``plan``: every row is checked in memory against
sets loaded with a constant number of queries (live customers' normalized names,
phones and e-mails and their contacts' phones and e-mails; users by username; grades
by code), with the same normalization and the same duplicate rules as the forms
(``crm.normalize``, ``crm.services.find_duplicate``), and the same message naming the
current owner. A row with the ``ID`` of a customer the user can see updates it
(non-empty cells only) and may add a contact. ``commit`` bulk-inserts, setting the
fields ``Customer.save()`` would have set, and writes the audit history in bulk.

Grades are read through ``Customer.grade``'s related model: crm never imports the
funnel app, and a grade's ``code``/``kind``/``stagnation_days`` are what
``Customer.refresh_stagnant_from`` already relies on.
"""

import contextlib
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_update_with_history

from crm import permissions
from crm.bulk import TableWriter
from crm.models import Contact, Customer, KeyPersonRole, Source, Tag, Tier, User, weighted_value_of
from crm.normalize import normalize_company_name, normalize_email, phone_digits
from crm.services import duplicate_message_about, tag_names_error

from . import cells
from .registry import Column, Importer, Plan, PlannedRow, RowIssue

BATCH_SIZE = 1000
PROGRESS_EVERY = 500

COLUMNS = (
    Column(
        "id",
        "ID",
        "编号",
        help=gettext_lazy(
            "Leave empty for a new customer; the ID of an existing customer you can see updates it."
        ),
    ),
    Column("name", "Name*", "客户名称*", required=True, help=gettext_lazy("Company or person.")),
    Column(
        "grade",
        "Grade",
        "客户等级",
        help=gettext_lazy("Grade code, e.g. E, D, C, B, A. Empty: the first grade."),
    ),
    Column(
        "owner",
        "Owner (username)",
        "负责人(用户名)",
        help=gettext_lazy("Username of the salesperson; empty: you. Managers may name their team."),
    ),
    Column("tier", "Tier", "客户分类", help=gettext_lazy("priority, normal or low.")),
    Column("industry", "Industry", "行业"),
    Column("region", "Region", "区域"),
    Column("address", "Address", "地址"),
    Column("phone", "Phone", "电话"),
    Column("email", "E-mail", "邮箱"),
    Column("employees", "Employees", "员工人数"),
    Column("annual_revenue", "Annual revenue (CNY)", "年营业额(元)"),
    Column("source", "Source", "客户来源"),
    Column("expected_value", "Expected yearly value (CNY)", "预计年成交额(元)"),
    Column("competitor", "Competitor in place", "现有竞争对手"),
    Column("expected_signing_on", "Expected signing date", "预计签约日期", help=gettext_lazy("2025-03-31")),
    Column("tags", "Tags", "标签", help=gettext_lazy("Separated by commas.")),
    Column("notes", "Notes", "备注"),
    Column("contact_name", "Contact name", "联系人姓名"),
    Column("contact_title", "Contact title", "联系人职务"),
    Column(
        "contact_role",
        "Key-person role",
        "关键人角色",
        help=gettext_lazy("decision_maker, recommender, influencer, user or other."),
    ),
    Column("contact_phone", "Contact phone", "联系人电话"),
    Column("contact_email", "Contact e-mail", "联系人邮箱"),
    Column("contact_wechat", "Contact WeChat", "联系人微信"),
)
HEADERS = {column.key: column for column in COLUMNS}

TEXT_FIELDS = ("industry", "region", "address", "phone", "competitor", "notes")
CONTACT_TEXT_FIELDS = {"contact_title": "title", "contact_phone": "phone", "contact_wechat": "wechat"}

# The method's Chinese words, recognised whatever the interface language's catalog says.
TIER_WORDS = {
    "优先考虑": Tier.PRIORITY,
    "优先": Tier.PRIORITY,
    "一般考虑": Tier.NORMAL,
    "一般": Tier.NORMAL,
    "最后考虑": Tier.LOW,
    "最后": Tier.LOW,
}
ROLE_WORDS = {
    "决策型": KeyPersonRole.DECISION_MAKER,
    "拍板": KeyPersonRole.DECISION_MAKER,
    "决策者": KeyPersonRole.DECISION_MAKER,
    "推荐型": KeyPersonRole.RECOMMENDER,
    "建议": KeyPersonRole.RECOMMENDER,
    "润滑型": KeyPersonRole.INFLUENCER,
    "润滑": KeyPersonRole.INFLUENCER,
    "使用者": KeyPersonRole.USER,
    "用户": KeyPersonRole.USER,
    "其他": KeyPersonRole.OTHER,
}
SOURCE_WORDS = {
    "转介绍": Source.REFERRAL,
    "推荐": Source.REFERRAL,
    "陌生拜访": Source.COLD_CALL,
    "电话开发": Source.COLD_CALL,
    "展会": Source.EXHIBITION,
    "网站": Source.WEBSITE,
    "广告": Source.ADVERTISING,
    "合作伙伴": Source.PARTNER,
    "老客户": Source.EXISTING,
    "其他": Source.OTHER,
}
TAG_SEPARATORS = (",", "，", "、", ";", "；")


def _field_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


class _Lookups:
    """Everything a plan checks against, loaded once (a constant number of queries)."""

    def __init__(self, user: User, update_ids: set[int]):
        grade_model = Customer._meta.get_field("grade").related_model
        self.users = list(
            User.objects.only("pk", "username", "first_name", "last_name", "team_id", "role", "is_active")
        )
        self.users_by_pk = {u.pk: u for u in self.users}
        self.users_by_username = {u.username.casefold(): u for u in self.users}
        grades = list(grade_model.objects.all())
        self.open_grades = sorted((g for g in grades if g.kind == "open"), key=lambda g: g.order)
        self.grades = {}
        for grade in self.open_grades:
            for word in (grade.code, grade.name, grade.name_zh):
                if word:
                    self.grades[word.strip().casefold()] = grade
        self.closed_grade_words = {
            word.strip().casefold()
            for g in grades
            if g.kind != "open"
            for word in (g.code, g.name, g.name_zh)
            if word
        }
        self.owner_of: dict[int, int | None] = {}
        self.names: dict[str, int] = {}
        self.phones: dict[str, int] = {}
        self.emails: dict[str, int] = {}
        live = Customer.objects.live().values_list(
            "pk", "owner_id", "name_normalized", "phone_digits", "email_normalized"
        )
        for pk, owner_id, name, phone, email in live.iterator(chunk_size=5000):
            self.owner_of[pk] = owner_id
            self.names.setdefault(name, pk)
            if phone:
                self.phones.setdefault(phone, pk)
            if email:
                self.emails.setdefault(email, pk)
        contacts = Contact.objects.filter(customer__archived_at__isnull=True).values_list(
            "customer_id", "phone_digits", "email_normalized"
        )
        for customer_id, phone, email in contacts.iterator(chunk_size=5000):
            if phone:
                self.phones.setdefault(phone, customer_id)
            if email:
                self.emails.setdefault(email, customer_id)
        # The tags every team shares (lower-cased name → name): only admins add new ones.
        self.tag_names = {name.lower(): name for name in Tag.objects.values_list("name", flat=True)}
        # Rows to update: only customers this user can see (the one visibility rule), with
        # the tags they have (an import adds tags, up to the cap).
        self.updatable: dict[int, Customer] = {}
        self.tags_of: dict[int, set[str]] = {}
        ids = sorted(update_ids)
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            # The grade is joined for the weighted value an updated expected value changes.
            visible = Customer.objects.visible_to(user).live().select_related("grade")
            for customer in visible.filter(pk__in=chunk):
                self.updatable[customer.pk] = customer
            links = Customer.tags.through.objects.filter(customer_id__in=chunk)
            for customer_id, name in links.values_list("customer_id", "tag__name"):
                self.tags_of.setdefault(customer_id, set()).add(name)

    def owner(self, customer_id: int) -> User | None:
        return self.users_by_pk.get(self.owner_of.get(customer_id))


class CustomerImporter(Importer):
    kind = "customers"
    label = gettext_lazy("Customers and contacts")
    columns = COLUMNS

    def __init__(self):
        self._tiers = cells.choice_lookup(Tier.choices)
        self._sources = cells.choice_lookup(Source.choices)
        self._roles = cells.choice_lookup(KeyPersonRole.choices)

    # --- preview -------------------------------------------------------------------

    def plan(self, *, batch, user, rows, progress, headers=None) -> Plan:
        rows = list(rows)
        update_ids = set()
        for _number, values in rows:
            raw_id = values.get("id")
            if not cells.is_blank(raw_id):
                with contextlib.suppress(cells.CellError):  # reported by the row's own check
                    update_ids.add(cells.parse_int(raw_id, minimum=1))
        lookups = _Lookups(user, update_ids)
        seen: dict[tuple[str, str], int] = {}
        plan = Plan()
        for index, (number, values) in enumerate(rows, start=1):
            plan.rows.append(self._plan_row(number, values, user, lookups, seen, headers or {}))
            if index % PROGRESS_EVERY == 0:
                progress(index)
        progress(len(rows))
        return plan

    def _plan_row(
        self,
        number: int,
        values: dict[str, Any],
        user: User,
        lookups: _Lookups,
        seen: dict[tuple[str, str], int],
        headers: dict[str, str],
    ) -> PlannedRow:
        issues: list[RowIssue] = []

        def col(key: str) -> str:
            """The column as the file names it (English or Chinese header)."""
            return headers.get(key) or HEADERS[key].header_en.rstrip("*")

        def cell(key, parse, *args, **kwargs):
            raw = values.get(key)
            if cells.is_blank(raw):
                return None
            try:
                return parse(raw, *args, **kwargs)
            except cells.CellError as error:
                issues.append(RowIssue(number, col(key), str(error)))
                return None

        target = None
        customer_id = cell("id", cells.parse_int, minimum=1)
        if customer_id is not None:
            target = lookups.updatable.get(customer_id)
            if target is None:
                issues.append(
                    RowIssue(
                        number,
                        col("id"),
                        _("No customer with ID %(id)s that you can see.") % {"id": customer_id},
                    )
                )
        name = cell("name", cells.text, max_length=_field_length(Customer, "name")) or ""
        if not name and customer_id is None:
            issues.append(RowIssue(number, col("name"), _("The name is missing.")))
        name_normalized = normalize_company_name(name)
        if name and not name_normalized:
            issues.append(RowIssue(number, col("name"), _("The name needs at least one letter or digit.")))

        grade = self._grade(cell("grade", cells.text), col("grade"), number, lookups, issues, target)
        owner = self._owner(cell("owner", cells.text), col("owner"), number, user, lookups, issues, target)
        fields: dict[str, Any] = {}
        for key in TEXT_FIELDS:
            value = cell(key, cells.text, max_length=_field_length(Customer, key))
            if value is not None:
                fields[key] = value
        for key, parse, kwargs in (
            ("email", cells.parse_email, {}),
            ("employees", cells.parse_int, {}),
            ("annual_revenue", cells.parse_decimal, {"max_digits": 16}),
            ("expected_value", cells.parse_decimal, {}),
            ("expected_signing_on", cells.parse_date, {}),
            ("tier", cells.parse_choice, {"lookup": self._tiers, "extra": TIER_WORDS}),
            ("source", cells.parse_choice, {"lookup": self._sources, "extra": SOURCE_WORDS}),
        ):
            value = cell(key, parse, **kwargs)
            if value is not None:
                fields[key] = value
        raw_tags = cell("tags", cells.text) or ""
        for separator in TAG_SEPARATORS[1:]:
            raw_tags = raw_tags.replace(separator, ",")
        # Spelled as the existing tag is; more than the cap, or a new tag from a non-admin, is an error.
        names = (name.strip()[:50] for name in raw_tags.split(","))
        tags = sorted({lookups.tag_names.get(name.lower(), name) for name in names if name})
        current = lookups.tags_of.get(target.pk, set()) if target else set()
        if error := tag_names_error(by=user, names=sorted(current | set(tags)), known=lookups.tag_names):
            issues.append(RowIssue(number, col("tags"), error))
        contact = self._contact(number, values, cell, issues, col("contact_name"))

        label = name or (target.name if target else "")
        if issues:
            return PlannedRow(number, "error", label=label, issues=issues)

        # --- duplicates (查重): the same keys and order as crm.services.find_duplicate ---
        keys = [("name", name_normalized)] if name else []
        keys += [
            ("phone", phone_digits(fields.get("phone", ""))),
            ("email", normalize_email(fields.get("email", ""))),
        ]
        if contact:
            keys += [("phone", contact["phone_digits"]), ("email", contact["email_normalized"])]
        keys = [(kind, value) for kind, value in keys if value]
        existing_maps = {"name": lookups.names, "phone": lookups.phones, "email": lookups.emails}
        # An updated customer's own name, phone or e-mail, unchanged, is not a new conflict
        # (as in ``update_customer``): a duplicate that already exists stays editable.
        own = (
            {
                ("name", target.name_normalized),
                ("phone", target.phone_digits),
                ("email", target.email_normalized),
            }
            if target
            else set()
        )
        for kind, value in keys:
            match = existing_maps[kind].get(value)
            if match is not None and (target is None or match != target.pk) and (kind, value) not in own:
                return PlannedRow(
                    number,
                    "duplicate",
                    label=label,
                    message=duplicate_message_about(
                        viewer=user, owner=lookups.owner(match), customer_id=match
                    ),
                )
        if target is not None:
            keys.append(("id", str(target.pk)))
        for key in keys:
            if key in seen:
                return PlannedRow(
                    number,
                    "duplicate",
                    label=label,
                    message=_("Same customer as row %(row)s of this file.") % {"row": seen[key]},
                )
        for key in keys:
            seen[key] = number

        if target is not None:
            if name:
                fields["name"] = name
            return PlannedRow(
                number,
                "update",
                label=label,
                payload={"customer": target, "fields": fields, "tags": tags, "contact": contact},
            )
        return PlannedRow(
            number,
            "create",
            label=label,
            payload={
                "owner": owner,
                "grade": grade,
                "fields": {"name": name, **fields},
                "tags": tags,
                "contact": contact,
            },
        )

    def _grade(self, raw, column, number, lookups: _Lookups, issues, target):
        if raw is None:
            return None if target is not None else (lookups.open_grades[0] if lookups.open_grades else None)
        grade = lookups.grades.get(raw.casefold())
        if grade is None:
            if raw.casefold() in lookups.closed_grade_words:
                message = _("Customers are imported at an open grade; record won or lost in the funnel.")
            else:
                message = _("Unknown grade “%(grade)s”; use one of: %(codes)s.") % {
                    "grade": raw,
                    "codes": ", ".join(g.code for g in lookups.open_grades),
                }
            issues.append(RowIssue(number, column, message))
            return None
        if target is not None and grade.pk != target.grade_id:
            issues.append(
                RowIssue(
                    number,
                    column,
                    _(
                        "Grades change in the funnel (change grade), not by import; "
                        "leave the grade empty or unchanged."
                    ),
                )
            )
        return grade

    def _owner(self, raw, column, number, user: User, lookups: _Lookups, issues, target):
        if raw is None:
            return None if target is not None else user
        owner = lookups.users_by_username.get(raw.casefold())
        if owner is None or not owner.is_active:
            issues.append(
                RowIssue(number, column, _("No active user with the username “%(owner)s”.") % {"owner": raw})
            )
            return None
        if target is not None:
            if owner.pk != target.owner_id:
                issues.append(
                    RowIssue(
                        number,
                        column,
                        _(
                            "Owners change by reassignment, not by import; leave "
                            "the owner empty or unchanged."
                        ),
                    )
                )
            return None
        if not permissions.can_own(user, owner):
            if user.is_manager:
                message = _("%(owner)s is not in your team.") % {"owner": owner.username}
            else:
                message = _("You may import customers only into your own name.")
            issues.append(RowIssue(number, column, message))
            return None
        return owner

    def _contact(self, number, values, cell, issues, name_column) -> dict | None:
        contact_keys = (
            "contact_name",
            "contact_title",
            "contact_role",
            "contact_phone",
            "contact_email",
            "contact_wechat",
        )
        if all(cells.is_blank(values.get(key)) for key in contact_keys):
            return None
        contact = {"name": cell("contact_name", cells.text, max_length=_field_length(Contact, "name")) or ""}
        if not contact["name"]:
            issues.append(RowIssue(number, name_column, _("The contact's name is missing.")))
        for key, field in CONTACT_TEXT_FIELDS.items():
            contact[field] = cell(key, cells.text, max_length=_field_length(Contact, field)) or ""
        contact["email"] = cell("contact_email", cells.parse_email) or ""
        contact["role"] = (
            cell("contact_role", cells.parse_choice, lookup=self._roles, extra=ROLE_WORDS)
            or KeyPersonRole.OTHER
        )
        contact["phone_digits"] = phone_digits(contact["phone"])
        contact["email_normalized"] = normalize_email(contact["email"])
        return contact

    # --- commit --------------------------------------------------------------------

    def commit(self, *, batch, user, plan: Plan, progress) -> tuple[int, int]:
        """Write the plan, reporting progress after each batch of rows; the caller holds
        the one transaction.

        New customers and contacts, and their "created" history records, are written as
        plain rows (``TableWriter``: COPY on PostgreSQL), several times faster than
        model instances through ``bulk_create_with_history`` for the same rows."""
        now = timezone.now()
        reason = _("Imported from %(file)s") % {"file": batch.file_name}
        history = {"default_user": user, "default_change_reason": reason, "default_date": now}
        created = {
            "history_date": now,
            "history_change_reason": reason,
            "history_type": "+",
            "history_user_id": user.pk,
        }
        tag_links = Customer.tags.through
        writers = {
            model: TableWriter(model, batch_size=BATCH_SIZE)
            for model in (Customer, Customer.history.model, Contact, Contact.history.model, tag_links)
        }

        def write(model, rows: list[dict]) -> list[int]:
            ids = writers[model].insert(rows, returning=True)
            history_rows = [{**row, "id": pk, **created} for row, pk in zip(rows, ids, strict=True)]
            writers[model.history.model].insert(history_rows)
            return ids

        creates = [row.payload for row in plan.of("create")]
        for start in range(0, len(creates), BATCH_SIZE):
            chunk = creates[start : start + BATCH_SIZE]
            rows = [self._customer_row(item, batch=batch, user=user, now=now) for item in chunk]
            ids = write(Customer, rows)
            pairs = list(zip(ids, chunk, strict=True))
            write(Contact, self._contact_rows(pairs, batch=batch, now=now))
            writers[tag_links].insert(self._tag_links(pairs))
            progress(start + len(chunk))

        updates = [row.payload for row in plan.of("update")]
        if updates:
            self._update(updates, now=now, history=history)
            pairs = [(item["customer"].pk, item) for item in updates]
            write(Contact, self._contact_rows(pairs, batch=batch, now=now))
            # An updated customer may have some of these tags already.
            links = [tag_links(**link) for link in self._tag_links(pairs)]
            tag_links.objects.bulk_create(links, ignore_conflicts=True, batch_size=BATCH_SIZE)
            progress(len(creates) + len(updates))
        return len(creates), len(updates)

    @staticmethod
    def _customer_row(item, *, batch, user, now) -> dict:
        """A new customer's columns, with what ``Customer.save()`` would set."""
        grade = item["grade"]
        fields = item["fields"]
        return {
            **fields,
            "owner_id": item["owner"].pk,
            "grade_id": grade.pk,
            "grade_entered_at": now,
            "created_by_id": user.pk,
            "created_at": now,
            "updated_at": now,
            "import_batch_id": batch.pk,
            "name_normalized": normalize_company_name(fields["name"]),
            "phone_digits": phone_digits(fields.get("phone", "")),
            "email_normalized": normalize_email(fields.get("email", "")),
            "stagnant_from": now + timedelta(days=grade.stagnation_days) if grade.stagnation_days else None,
            "weighted_value": weighted_value_of(fields.get("expected_value", 0), grade.probability),
        }

    @staticmethod
    def _contact_rows(pairs, *, batch, now) -> list[dict]:
        """The contact of each ``(customer id, planned row)`` pair that has one."""
        return [
            {**item["contact"], "customer_id": customer_id, "import_batch_id": batch.pk, "created_at": now}
            for customer_id, item in pairs
            if item["contact"]
        ]

    @staticmethod
    def _update(updates, *, now, history) -> None:
        changed_fields: set[str] = set()
        for item in updates:
            customer = item["customer"]
            for field, value in item["fields"].items():
                setattr(customer, field, value)
                changed_fields.add(field)
            customer.name_normalized = normalize_company_name(customer.name)
            customer.phone_digits = phone_digits(customer.phone)
            customer.email_normalized = normalize_email(customer.email)
            customer.refresh_weighted_value()
            customer.updated_at = now
        derived = {"name_normalized", "phone_digits", "email_normalized", "weighted_value", "updated_at"}
        bulk_update_with_history(
            [item["customer"] for item in updates],
            Customer,
            sorted(changed_fields | derived),
            batch_size=BATCH_SIZE,
            **history,
        )

    @staticmethod
    def _tag_links(pairs) -> list[dict]:
        """The tag links of ``(customer id, planned row)`` pairs, creating missing tags."""
        names = sorted({name for _customer_id, item in pairs for name in item["tags"]})
        if not names:
            return []
        Tag.objects.bulk_create(
            [Tag(name=name) for name in names], ignore_conflicts=True, batch_size=BATCH_SIZE
        )
        tag_ids = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
        return [
            {"customer_id": customer_id, "tag_id": tag_ids[name]}
            for customer_id, item in pairs
            for name in item["tags"]
        ]
