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

from crm.bulk import TableWriter
from crm.models import Contact, Customer, KeyPersonRole, Source, Tag, Tier, User, weighted_value_of
from crm.normalize import normalize_company_name, normalize_email, phone_digits
from crm.services import duplicate_message_about, tag_names_error

from . import cells
from .registry import Column, Importer, Plan, PlannedRow

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


def _duplicate_keys(name: str, fields: dict[str, Any], contact: dict | None) -> list[tuple[str, str]]:
    """查重 keys of a row: the same keys and order as ``crm.services.find_duplicate``."""
    keys = [("name", normalize_company_name(name))] if name else []
    keys += [
        ("phone", phone_digits(fields.get("phone", ""))),
        ("email", normalize_email(fields.get("email", ""))),
    ]
    if contact:
        keys += [("phone", contact["phone_digits"]), ("email", contact["email_normalized"])]
    return [(kind, value) for kind, value in keys if value]


def _duplicate_of_existing(
    keys: list[tuple[str, str]], target: Customer | None, user: User, lookups: _Lookups
) -> str:
    """The message naming the owner of another live customer the row matches, or ""."""
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
            return duplicate_message_about(viewer=user, owner=lookups.owner(match), customer_id=match)
    return ""


def _duplicate_in_file(
    keys: list[tuple[str, str]], target: Customer | None, number: int, seen: dict[tuple[str, str], int]
) -> str:
    """The message when an earlier row of the file has one of these keys, or "" (and
    the keys are this row's from now on)."""
    if target is not None:
        keys = [*keys, ("id", str(target.pk))]
    for key in keys:
        if key in seen:
            return _("Same customer as row %(row)s of this file.") % {"row": seen[key]}
    for key in keys:
        seen[key] = number
    return ""


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
        row = cells.RowCells(number, values, headers, HEADERS)
        customer_id = row.get("id", cells.parse_int, minimum=1)
        target = self._target(row, customer_id, lookups)
        name = self._name(row, customer_id)
        grade = self._grade(row, lookups, target)
        owner = self._owner(row, user, lookups, target)
        fields = self._fields(row)
        tags = self._tags(row, user, lookups, target)
        contact = self._contact(row)
        label = name or (target.name if target else "")
        if row.issues:
            return PlannedRow(number, "error", label=label, issues=row.issues)
        keys = _duplicate_keys(name, fields, contact)
        duplicate = _duplicate_of_existing(keys, target, user, lookups) or _duplicate_in_file(
            keys, target, number, seen
        )
        if duplicate:
            return PlannedRow(number, "duplicate", label=label, message=duplicate)
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

    @staticmethod
    def _target(row: cells.RowCells, customer_id: int | None, lookups: _Lookups) -> Customer | None:
        """The customer a row with an ID updates: one the user can see."""
        if customer_id is None:
            return None
        target = lookups.updatable.get(customer_id)
        if target is None:
            row.add_issue("id", _("No customer with ID %(id)s that you can see.") % {"id": customer_id})
        return target

    @staticmethod
    def _name(row: cells.RowCells, customer_id: int | None) -> str:
        """The name, required for a new customer and never without a letter or digit."""
        name = row.get("name", cells.text, max_length=_field_length(Customer, "name")) or ""
        if not name and customer_id is None:
            row.add_issue("name", _("The name is missing."))
        if name and not normalize_company_name(name):
            row.add_issue("name", _("The name needs at least one letter or digit."))
        return name

    def _fields(self, row: cells.RowCells) -> dict[str, Any]:
        """The customer's own cells that are filled in, parsed."""
        fields: dict[str, Any] = {}
        for key in TEXT_FIELDS:
            value = row.get(key, cells.text, max_length=_field_length(Customer, key))
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
            value = row.get(key, parse, **kwargs)
            if value is not None:
                fields[key] = value
        return fields

    @staticmethod
    def _tags(row: cells.RowCells, user: User, lookups: _Lookups, target: Customer | None) -> list[str]:
        """Spelled as the existing tag is; more than the cap, or a new tag from a non-admin, is an issue."""
        raw_tags = row.get("tags", cells.text) or ""
        for separator in TAG_SEPARATORS[1:]:
            raw_tags = raw_tags.replace(separator, ",")
        names = (name.strip()[:50] for name in raw_tags.split(","))
        tags = sorted({lookups.tag_names.get(name.lower(), name) for name in names if name})
        current = lookups.tags_of.get(target.pk, set()) if target else set()
        if error := tag_names_error(by=user, names=sorted(current | set(tags)), known=lookups.tag_names):
            row.add_issue("tags", error)
        return tags

    @staticmethod
    def _grade(row: cells.RowCells, lookups: _Lookups, target: Customer | None):
        raw = row.get("grade", cells.text)
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
            row.add_issue("grade", message)
            return None
        if target is not None and grade.pk != target.grade_id:
            row.add_issue(
                "grade",
                _(
                    "Grades change in the funnel (change grade), not by import; "
                    "leave the grade empty or unchanged."
                ),
            )
        return grade

    @staticmethod
    def _owner(row: cells.RowCells, user: User, lookups: _Lookups, target: Customer | None) -> User | None:
        if cells.is_blank(row.values.get("owner")):
            return None if target is not None else user
        if target is None:
            return row.get(
                "owner",
                cells.parse_owner,
                users=lookups.users_by_username,
                by=user,
                own_name_only=_("You may import customers only into your own name."),
            )
        owner = row.get("owner", cells.parse_user, users=lookups.users_by_username)
        if owner is not None and owner.pk != target.owner_id:
            row.add_issue(
                "owner",
                _("Owners change by reassignment, not by import; leave the owner empty or unchanged."),
            )
        return None

    def _contact(self, row: cells.RowCells) -> dict | None:
        contact_keys = (
            "contact_name",
            "contact_title",
            "contact_role",
            "contact_phone",
            "contact_email",
            "contact_wechat",
        )
        if all(cells.is_blank(row.values.get(key)) for key in contact_keys):
            return None
        contact = {
            "name": row.get("contact_name", cells.text, max_length=_field_length(Contact, "name")) or ""
        }
        if not contact["name"]:
            row.add_issue("contact_name", _("The contact's name is missing."))
        for key, field in CONTACT_TEXT_FIELDS.items():
            contact[field] = row.get(key, cells.text, max_length=_field_length(Contact, field)) or ""
        contact["email"] = row.get("contact_email", cells.parse_email) or ""
        contact["role"] = (
            row.get("contact_role", cells.parse_choice, lookup=self._roles, extra=ROLE_WORDS)
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
