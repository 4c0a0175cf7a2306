"""Reads of the activities app, each scoped by the visibility rule and shaped for its page.

Every function here runs a fixed number of queries, whatever the number of rows.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import reduce
from operator import or_

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.models import GradeKind
from crm import selectors as crm_selectors
from crm.models import Customer, Notification, Order, Role, Team, Tier, User
from crm.selectors import (
    QUICK_SEARCH_MIN_LENGTH,
    clean_search_text,
    customer_ids_matching,
    customers_visible_to,
)
from funnel.clock import next_working_day, start_of_day
from funnel.selectors import GRADE_BADGE_FIELDS

from .models import (
    Activity,
    ActivityKind,
    CadenceRule,
    CallStage,
    DailyPlan,
    DailyReport,
    LocationStatus,
    MarketReport,
    Objection,
    PlanItem,
    PlanItemKind,
    PlanState,
    Purpose,
    ReportState,
    Visit,
    VisitCompanion,
    VisitPhoto,
)

TIER_ORDER = Case(
    When(tier=Tier.PRIORITY, then=Value(0)),
    When(tier=Tier.NORMAL, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)

# Counted as effective: ticked, and not a call that was only dialled. The service never
# stores such a call as effective; this second net keeps legacy rows from ever showing
# more effective calls than connected ones in any figure.
CONNECTED_CALL = Q(kind=ActivityKind.CALL, call_stage__gte=CallStage.CONNECTED)
COUNTED_EFFECTIVE = Q(effective=True) & (~Q(kind=ActivityKind.CALL) | CONNECTED_CALL)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a calendar day in the company time zone, as aware datetimes."""
    return start_of_day(day), start_of_day(day + timedelta(days=1))


def local_date(moment: datetime) -> date:
    return timezone.localtime(moment).date()


# --- Activities ------------------------------------------------------------------------


def activities_visible_to(user: User) -> QuerySet[Activity]:
    """Activities of the customers ``user`` may see, ready for lists."""
    return Activity.objects.visible_to(user).select_related("customer", "owner", "contact", "objection")


def activities_of_owner_on(owner: User, day: date) -> QuerySet[Activity]:
    """What ``owner`` did on ``day`` (their own work, for their daily report)."""
    start, end = day_bounds(day)
    return (
        Activity.objects.filter(owner=owner, started_at__gte=start, started_at__lt=end)
        .select_related("customer", "contact", "objection")
        .order_by("started_at", "pk")
    )


def customer_activities(customer: Customer, limit: int) -> list[Activity]:
    """The newest activities of one customer (the caller has checked visibility), with
    only the columns its timeline shows, and the check-in of each visit.

    Read once per customer object: the customer page's timeline, location panel and
    action bar all take what they need from this one query (``customer_visits``)."""
    read = getattr(customer, "_newest_activities", None)
    if read is None or read[0] < limit:
        rows = list(
            Activity.objects.filter(customer=customer)
            .select_related("owner", "contact", "objection", "visit")
            .only(
                "started_at",
                "kind",
                "purpose",
                "call_stage",
                "effective",
                "outcome",
                "next_follow_up_on",
                "contact__name",
                "objection__name",
                "objection__name_zh",
                "owner__username",
                "owner__first_name",
                "owner__last_name",
                *(f"visit__{name}" for name in CUSTOMER_PAGE_VISIT_FIELDS),
            )
            .order_by("-started_at", "-pk")[:limit]
        )
        read = customer._newest_activities = (limit, rows)
    return read[1][:limit]


def active_objections() -> QuerySet[Objection]:
    return Objection.objects.active().order_by("order", "pk")


# --- Contact cadence -------------------------------------------------------------------


def cadence_rules() -> dict[str, CadenceRule]:
    return {rule.tier: rule for rule in CadenceRule.objects.all()}


def _due_condition(rules: dict[str, CadenceRule], now: datetime, last_field: str, days_attr: str) -> Q | None:
    """Customers of a tier whose last call (or visit) is older than the tier's rule, or
    who never had one. ``None`` when no tier has a rule for this channel."""
    condition = None
    for tier, rule in rules.items():
        days = getattr(rule, days_attr)
        if not days:
            continue
        stale = Q(**{f"{last_field}__isnull": True}) | Q(**{f"{last_field}__lte": now - timedelta(days=days)})
        tier_due = Q(tier=tier) & stale
        condition = tier_due if condition is None else condition | tier_due
    return condition


def rule_annotations() -> dict[str, Subquery]:
    """The customer's cadence rule (id and days, by its tier) as subqueries, for a page
    that reads one customer: no separate query for the rules."""
    rule = CadenceRule.objects.filter(tier=OuterRef("tier"))
    return {
        f"cadence_{name}": Subquery(rule.values(name)[:1])
        for name in ("id", "call_every_days", "visit_every_days")
    }


def cadence_flags(customer: Customer, rule: CadenceRule, now: datetime | None = None) -> dict[str, bool]:
    """``call_due`` / ``visit_due`` of one customer in memory: the rule of ``_due_condition``."""
    now = now or timezone.now()

    def due(last: datetime | None, days: int | None) -> bool:
        return bool(days) and (last is None or last <= now - timedelta(days=days))

    return {
        "call_due": due(customer.last_call_at, rule.call_every_days),
        "visit_due": due(customer.last_visit_at, rule.visit_every_days),
    }


def _flag(condition: Q | None) -> Case | Value:
    if condition is None:
        return Value(False, output_field=BooleanField())
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def with_cadence(
    customers: QuerySet[Customer], now: datetime | None = None, rules: dict[str, CadenceRule] | None = None
) -> QuerySet[Customer]:
    """Annotate ``call_due`` and ``visit_due`` by the tier's cadence rule (one query for
    the rules; the comparison is SQL on the indexed last-call / last-visit dates)."""
    now = now or timezone.now()
    rules = cadence_rules() if rules is None else rules
    return customers.annotate(
        call_due=_flag(_due_condition(rules, now, "last_call_at", "call_every_days")),
        visit_due=_flag(_due_condition(rules, now, "last_visit_at", "visit_every_days")),
    )


def cadence_due(customers: QuerySet[Customer], now: datetime | None = None) -> QuerySet[Customer]:
    """Live, not-lost customers among ``customers`` that are due or overdue for a call or
    a visit by their tier's cadence (never contacted counts as due); priority tier
    first, then the longest-neglected."""
    now = now or timezone.now()
    rules = cadence_rules()
    return with_cadence(_due_customers(customers, now, rules), now, rules)


def _due_customers(
    customers: QuerySet[Customer], now: datetime, rules: dict[str, CadenceRule]
) -> QuerySet[Customer]:
    """``cadence_due`` without the ``call_due`` / ``visit_due`` columns: "my day" works
    them out in memory for its 51 rows (``cadence_flags``); the flags' SQL, in SELECT and
    again in WHERE, took about as long to build as the query takes to run."""
    due = [
        condition
        for condition in (
            _due_condition(rules, now, "last_call_at", "call_every_days"),
            _due_condition(rules, now, "last_visit_at", "visit_every_days"),
        )
        if condition is not None
    ]
    if not due:
        return customers.none()
    return (
        customers.filter(archived_at__isnull=True)
        .exclude(grade__kind=GradeKind.LOST)
        .filter(reduce(or_, due))
        .annotate(tier_rank=TIER_ORDER)
        .order_by("tier_rank", F("last_activity_at").asc(nulls_first=True), "pk")
    )


def cadence_due_for(user: User, now: datetime | None = None) -> QuerySet[Customer]:
    """Cadence-due customers among those ``user`` may see."""
    return cadence_due(customers_visible_to(user), now)


# --- My day ---------------------------------------------------------------------------

MY_DAY_ROWS = 50


@dataclass
class MyDay:
    today: date
    plan: DailyPlan | None
    report: DailyReport | None
    follow_ups: list[Customer]
    follow_ups_more: bool
    cadence: list[Customer]
    cadence_more: bool
    counts: dict = field(default_factory=dict)
    pending_reviews: int | None = None


# What a "my day" row (and ``/api/my-day/``) reads of a customer and its grade: loading
# only these keeps the up to 100 customers and grades of the page cheap to fetch and build.
MY_DAY_CUSTOMER_FIELDS = (
    "name",
    "tier",
    "last_activity_at",
    "last_call_at",
    "last_visit_at",
    "next_follow_up_on",
    *(f"grade__{name}" for name in GRADE_BADGE_FIELDS),
)


def _own_live_customers(user: User) -> QuerySet[Customer]:
    return (
        Customer.objects.filter(owner=user, archived_at__isnull=True)
        .select_related("grade")
        .only(*MY_DAY_CUSTOMER_FIELDS)
    )


def follow_ups_due(user: User, today: date) -> QuerySet[Customer]:
    """The user's own customers with a follow-up due today or overdue, oldest first."""
    return _own_live_customers(user).filter(next_follow_up_on__lte=today).order_by("next_follow_up_on", "pk")


def plan_with_items(owner: User, day: date) -> DailyPlan | None:
    """The plan of ``owner`` on ``day`` with its items, each with the first check-in that
    fulfilled it (``check_in_visit_id``, ``checked_in_at``; ``None`` when none did)."""
    check_in = Visit.objects.filter(plan_item=OuterRef("pk")).order_by("checked_in_at", "pk")
    items = (
        PlanItem.objects.select_related("customer", "customer__grade")
        .annotate(
            check_in_visit_id=Subquery(check_in.values("pk")[:1]),
            checked_in_at=Subquery(check_in.values("checked_in_at")[:1]),
        )
        .order_by("starts_at", "pk")
    )
    return (
        DailyPlan.objects.filter(owner=owner, date=day)
        .prefetch_related(Prefetch("items", queryset=items))
        .first()
    )


def my_day(user: User, today: date | None = None, now: datetime | None = None) -> MyDay:
    """Everything on a salesperson's (or a manager's own) start page, for their own
    customers: today's plan and report, what they did so far, follow-ups due (overdue
    first), cadence-due customers (priority first), and for reviewers how many plans
    and reports of their team wait for review.
    At most ``MY_DAY_ROWS`` rows per block; a flag says there are more."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    follow_ups = list(follow_ups_due(user, today)[: MY_DAY_ROWS + 1])
    rules = cadence_rules()
    cadence = list(_due_customers(_own_live_customers(user), now, rules)[: MY_DAY_ROWS + 1])
    for customer in follow_ups:
        customer.days_overdue = (today - customer.next_follow_up_on).days
    for customer in cadence:  # due, so its tier has a rule
        flags = cadence_flags(customer, rules[customer.tier], now)
        customer.call_due, customer.visit_due = flags["call_due"], flags["visit_due"]
    report, pending_reviews = _report_and_pending_reviews(user, today)
    day = MyDay(
        today=today,
        plan=plan_with_items(user, today),
        report=report,
        pending_reviews=pending_reviews,
        follow_ups=follow_ups[:MY_DAY_ROWS],
        follow_ups_more=len(follow_ups) > MY_DAY_ROWS,
        cadence=cadence[:MY_DAY_ROWS],
        cadence_more=len(cadence) > MY_DAY_ROWS,
        counts=activity_counts(user, today),
    )
    return day


def _report_and_pending_reviews(user: User, day: date) -> tuple[DailyReport | None, int | None]:
    """``user``'s own report of ``day`` and, for a reviewer, how many plans and reports of
    ``day`` wait for their review (``None`` for a salesperson): one query, a UNION of
    tagged rows, whatever the team's size. The report comes back with its pk and state,
    all "my day" shows of it."""
    own = DailyReport.objects.filter(owner=user, date=day).order_by()
    rows = own.values_list(Value("own"), "pk", "state")
    if user.is_manager_or_admin:
        people = reviewees_of(user).values("pk")
        rows = rows.union(
            DailyPlan.objects.filter(owner__in=people, date=day, state=PlanState.SUBMITTED)
            .order_by()
            .values_list(Value("review"), "pk", "state"),
            DailyReport.objects.filter(owner__in=people, date=day, state=ReportState.SUBMITTED)
            .order_by()
            .values_list(Value("review"), "pk", "state"),
            all=True,
        )
    report, pending = None, 0
    for tag, pk, state in rows:
        if tag == "own":
            report = DailyReport(pk=pk, owner=user, date=day, state=state)
        else:
            pending += 1
    return report, pending if user.is_manager_or_admin else None


def activity_counts(owner: User, day: date) -> dict:
    """Calls, visits and effective activities of ``owner`` on ``day`` (one query; the
    progress line of "my day" — targets come from the reports app)."""
    start, end = day_bounds(day)
    return Activity.objects.filter(owner=owner, started_at__gte=start, started_at__lt=end).aggregate(
        calls=Count("pk", filter=Q(kind=ActivityKind.CALL)),
        visits=Count("pk", filter=Q(kind=ActivityKind.VISIT)),
        effective=Count("pk", filter=COUNTED_EFFECTIVE),
        total=Count("pk"),
    )


def due_counts(user: User, today: date, now: datetime | None = None) -> dict[str, int]:
    """How many follow-ups and cadence-due customers "my day" lists (each capped at
    ``MY_DAY_ROWS + 1``, as the page counts its rows): the blocks' badges after an inline
    log, without reading the rows. Three queries (the rules, two capped id lists)."""
    now = now or timezone.now()
    capped = MY_DAY_ROWS + 1
    follow = follow_ups_due(user, today).values_list("pk", flat=True)[:capped]
    cadence = _due_customers(_own_live_customers(user), now, cadence_rules()).values_list("pk", flat=True)
    return {"follow_ups": len(follow), "cadence": len(cadence[:capped])}


# --- Plans, reports and the review --------------------------------------------------------


def plans_visible_to(user: User) -> QuerySet[DailyPlan]:
    return DailyPlan.objects.visible_to(user).select_related("owner", "reviewed_by")


def reports_visible_to(user: User) -> QuerySet[DailyReport]:
    return DailyReport.objects.visible_to(user).select_related("owner", "reviewed_by")


def plan_for_detail(user: User, pk: int) -> DailyPlan:
    """One visible plan with its items and history; ``DailyPlan.DoesNotExist`` when not visible."""
    items = PlanItem.objects.select_related("customer", "customer__grade").order_by("starts_at", "pk")
    return plans_visible_to(user).prefetch_related(Prefetch("items", queryset=items), "events__by").get(pk=pk)


# --- Quick daily planning --------------------------------------------------------------------

# A grade at least this likely to win is quoting or closing: its visits are about the order.
ORDER_PURPOSE_FROM_PROBABILITY = 50
# Rows the plan's customer picker shows: a short list to pick from, never the whole book.
PICKER_ROWS = 10


def default_purpose(customer: Customer) -> str:
    """The purpose a call, visit or plan item with ``customer`` starts from, by its grade
    (the grade must be loaded): won customers are served; open grades likely to win
    (B quoting, A paperwork: ≥ ``ORDER_PURPOSE_FROM_PROBABILITY`` %) are about the order;
    the upper funnel (E, D, C) and lost customers are still being developed — served
    instead when they already ordered (a repeat customer back at a lower grade)."""
    grade = customer.grade if customer.grade_id else None  # none: the offline form's blank customer
    if grade is not None and grade.kind == GradeKind.WON:
        return Purpose.SERVICE
    if (
        grade is not None
        and grade.kind == GradeKind.OPEN
        and grade.probability >= ORDER_PURPOSE_FROM_PROBABILITY
    ):
        return Purpose.ORDER
    return Purpose.SERVICE if customer.order_count else Purpose.NEW_DEVELOPMENT


def next_plan_day(today: date | None = None) -> date:
    """The day "Add to tomorrow's plan" plans for: the next working day (on a Friday, the
    Monday: the plan is made the working day before). Another day is picked explicitly."""
    return next_working_day(today or timezone.localdate())


class PickerReason:
    """Why the picker suggests a customer (its ``pick_rank``): the order it shows them in."""

    FOLLOW_UP, CADENCE, OTHER = 0, 1, 2


def plan_picker(user: User, plan: DailyPlan, q: str = "", limit: int = PICKER_ROWS) -> list[Customer]:
    """The customers to offer for ``plan`` (``user``'s own): live customers ``user`` may
    see that are not on the plan yet. Without a search text (or one too short to
    match), the user's own customers whose follow-up is due by the plan's day, then
    those due by their tier's contact cadence (priority tier first); with one, every
    visible customer matching it by name, phone, a contact's name or phone (the quick
    search's rule) or area, the due ones first. Each has ``pick_rank``
    (``PickerReason``) and ``default_purpose``.

    Two queries whatever the data: the cadence rules and the customers."""
    today = timezone.localdate()
    now = timezone.now() + timedelta(days=max((plan.date - today).days, 0))
    rules = cadence_rules()
    cadence = [
        condition
        for condition in (
            _due_condition(rules, now, "last_call_at", "call_every_days"),
            _due_condition(rules, now, "last_visit_at", "visit_every_days"),
        )
        if condition is not None
    ]
    follow_up = Q(next_follow_up_on__lte=plan.date)
    cadence_due = ~Q(grade__kind=GradeKind.LOST) & reduce(or_, cadence) if cadence else None
    whens = [When(follow_up, then=Value(PickerReason.FOLLOW_UP))]
    if cadence_due is not None:
        whens.append(When(cadence_due, then=Value(PickerReason.CADENCE)))
    customers = (
        Customer.objects.visible_to(user)
        .live()
        .exclude(pk__in=PlanItem.objects.filter(plan=plan).values("customer_id"))
        .select_related("grade")
        .annotate(
            pick_rank=Case(*whens, default=Value(PickerReason.OTHER), output_field=IntegerField()),
            tier_rank=TIER_ORDER,
        )
    )
    value = clean_search_text(q)
    if len(value) >= QUICK_SEARCH_MIN_LENGTH:
        area = Customer.objects.filter(region__icontains=value).order_by().values("pk")
        customers = customers.filter(pk__in=customer_ids_matching(value).union(area))
    else:
        customers = customers.filter(owner=user, pick_rank__lt=PickerReason.OTHER)
    rows = list(
        customers.order_by(
            "pick_rank", F("next_follow_up_on").asc(nulls_last=True), "tier_rank", "name", "pk"
        )[:limit]
    )
    for customer in rows:
        customer.default_purpose = default_purpose(customer)
    return rows


def report_for_detail(user: User, pk: int) -> DailyReport:
    return reports_visible_to(user).prefetch_related("events__by").get(pk=pk)


def reviewees_of(user: User) -> QuerySet[User]:
    """Active colleagues whose plans and reports ``user`` reviews: everyone in a manager's
    team tree but themselves; every salesperson and manager for an admin."""
    if user.is_admin:
        people = User.objects.exclude(role=Role.ADMIN)
    elif user.is_manager:
        people = User.objects.filter(team_id__in=user.visible_team_ids)
    else:
        return User.objects.none()
    return (
        people.filter(is_active=True)
        .exclude(pk=user.pk)
        .select_related("team")
        .order_by("team__name", "username")
    )


@dataclass
class ApprovalRow:
    person: User
    plan: DailyPlan | None
    report: DailyReport | None

    @property
    def plan_missing(self) -> bool:
        return self.plan is None or self.plan.state in DailyPlan.EDITABLE_STATES

    @property
    def report_missing(self) -> bool:
        return self.report is None or self.report.state in DailyReport.EDITABLE_STATES


def _approval_items() -> Prefetch:
    return Prefetch("items", queryset=PlanItem.objects.select_related("customer").order_by("starts_at", "pk"))


def approvals(user: User, day: date) -> list[ApprovalRow]:
    """One row per reviewee for ``day``: their plan and report (or ``None``) — three queries."""
    people = list(reviewees_of(user))
    ids = [person.pk for person in people]
    plans = {
        plan.owner_id: plan
        for plan in DailyPlan.objects.filter(owner_id__in=ids, date=day).prefetch_related(_approval_items())
    }
    reports = {report.owner_id: report for report in DailyReport.objects.filter(owner_id__in=ids, date=day)}
    return [ApprovalRow(person, plans.get(person.pk), reports.get(person.pk)) for person in people]


def approval_row(user: User, owner_id: int, day: date) -> ApprovalRow | None:
    """The Approvals row of one reviewee (after an in-place approve / return); ``None``
    when ``user`` does not review them."""
    person = reviewees_of(user).filter(pk=owner_id).first()
    if person is None:
        return None
    return ApprovalRow(
        person,
        DailyPlan.objects.filter(owner=person, date=day).prefetch_related(_approval_items()).first(),
        DailyReport.objects.filter(owner=person, date=day).first(),
    )


def managers_of(user: User) -> list[User]:
    """Who reviews ``user``'s work: the manager of their team, or of the nearest team
    above it that has one (never themselves); the admins when the tree has none.
    Two queries (the team tree is small)."""
    teams = {team.pk: team for team in Team.objects.select_related("manager")}
    seen: set[int] = set()
    team = teams.get(user.team_id)
    while team is not None and team.pk not in seen:
        seen.add(team.pk)
        manager = team.manager
        if manager is not None and manager.pk != user.pk and manager.is_active:
            return [manager]
        team = teams.get(team.parent_id)
    return list(User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk))


# --- The day's figures (daily report) -------------------------------------------------------


def day_figures(owner: User, day: date) -> dict:
    """The report's figures for ``owner`` on ``day``: activities by channel, connected
    calls, effective activities and effective calls (only connected calls count, so
    ``effective_calls <= connected_calls`` always), expenses, plan items planned /
    done, planned visits and those a check-in fulfilled, check-ins, orders signed and
    money collected — four aggregate queries."""
    start, end = day_bounds(day)
    activity = Activity.objects.filter(owner=owner, started_at__gte=start, started_at__lt=end).aggregate(
        calls=Count("pk", filter=Q(kind=ActivityKind.CALL)),
        connected_calls=Count("pk", filter=CONNECTED_CALL),
        effective_calls=Count("pk", filter=CONNECTED_CALL & Q(effective=True)),
        visits=Count("pk", filter=Q(kind=ActivityKind.VISIT)),
        other_activities=Count("pk", filter=~Q(kind__in=[ActivityKind.CALL, ActivityKind.VISIT])),
        effective_activities=Count("pk", filter=COUNTED_EFFECTIVE),
        expenses=Coalesce(
            Sum("expense"), Value(0), output_field=DecimalField(max_digits=12, decimal_places=2)
        ),
    )
    items = (
        PlanItem.objects.filter(plan__owner=owner, plan__date=day)
        .annotate(checked_in=Exists(Visit.objects.filter(plan_item=OuterRef("pk"))))
        .aggregate(
            plan_items_planned=Count("pk"),
            plan_items_done=Count("pk", filter=Q(done=True)),
            planned_visits=Count("pk", filter=Q(kind=PlanItemKind.VISIT)),
            planned_visits_checked_in=Count("pk", filter=Q(kind=PlanItemKind.VISIT, checked_in=True)),
        )
    )
    check_ins = Visit.objects.filter(owner=owner, checked_in_at__gte=start, checked_in_at__lt=end).count()
    money = DecimalField(max_digits=14, decimal_places=2)
    orders = (
        Order.objects.filter(owner=owner)
        .filter(Q(signed_on=day) | Q(collected_on=day))
        .aggregate(
            orders_count=Count("pk", filter=Q(signed_on=day)),
            orders_amount=Coalesce(Sum("amount", filter=Q(signed_on=day)), Value(0), output_field=money),
            collected=Coalesce(
                Sum("collected_amount", filter=Q(collected_on=day)), Value(0), output_field=money
            ),
        )
    )
    return {**activity, **items, "check_ins": check_ins, **orders}


# --- Escalations and notifications ---------------------------------------------------------


def market_reports_visible_to(user: User) -> QuerySet[MarketReport]:
    return MarketReport.objects.visible_to(user).select_related("owner", "customer")


def notifications_of(user: User) -> QuerySet[Notification]:
    """A user's own notifications, newest first (nobody reads another's)."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return (
        Notification.objects.filter(recipient=user).select_related("customer").order_by("-created_at", "-pk")
    )


# --- Visits (外勤签到) ------------------------------------------------------------------------

# A team's day holds far fewer check-ins; past this the page says "more" (pick a person).
TEAM_DAY_ROWS = 500
# What a row of the team's day reads of a visit, its customer, visitor and plan item.
TEAM_DAY_VISIT_FIELDS = (
    "owner_id",
    "customer_id",
    "plan_item_id",
    "checked_in_at",
    "synced_at",
    "check_in_status",
    "check_in_accuracy_m",
    "distance_m",
    "far_from_customer",
    "set_customer_location",
    "checked_out_at",
    "duration_minutes",
    "customer__name",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
    "plan_item__starts_at",
    "plan_item__ends_at",
    "plan_item__purpose",
)


def visits_visible_to(user: User) -> QuerySet[Visit]:
    """Visits at the customers ``user`` may see (a visit is visible when its customer
    is), with the customer, the visitor and the plan item joined and the photos
    prefetched, and who went along (陪同拜访): three queries for any number of visits."""
    photos = VisitPhoto.objects.order_by("uploaded_at", "pk")
    return (
        Visit.objects.visible_to(user)
        .select_related("customer", "owner", "plan_item")
        .prefetch_related(Prefetch("photos", queryset=photos), companions_prefetch())
    )


def visits_on(visits: QuerySet[Visit], day: date) -> QuerySet[Visit]:
    """The visits checked in on ``day`` (company time zone), as an indexed range."""
    start, end = day_bounds(day)
    return visits.filter(checked_in_at__gte=start, checked_in_at__lt=end)


def _count_of(rows: QuerySet) -> Coalesce:
    """``COUNT(*)`` of a correlated subquery, as a column (0 when it finds nothing)."""
    counted = rows.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


@dataclass
class TeamDay:
    """The team's day (who checked in where and when): ``people`` are the persons in
    scope with their totals (``check_ins``, ``flagged``, ``no_location``,
    ``planned_visits``, ``planned_visits_checked_in``), ``visits`` the day's check-ins
    in time order (``photo_count`` annotated), ``more`` when they were cut at
    ``TEAM_DAY_ROWS``."""

    day: date
    people: list[User]
    visits: list[Visit]
    more: bool
    owner_id: int | None = None

    @property
    def summary(self) -> list[User]:
        """The totals shown: everyone's, or the chosen person's."""
        return [person for person in self.people if self.owner_id in (None, person.pk)]

    @property
    def unknown_owner(self) -> bool:
        """The chosen person is none of ``people`` (not of the viewer's team): bad input."""
        return self.owner_id is not None and not self.summary


def team_day(user: User, day: date, owner_id: int | None = None) -> TeamDay:
    """Who checked in where on ``day``, for ``user``: the visits of the people ``user``
    may see (a manager: their team tree and themselves; an admin: everyone; a
    salesperson: themselves) at the customers ``user`` may see — with distance, flag,
    check-out and duration, photo count and plan item — and each person's totals.
    ``owner_id`` narrows the visits to one of those people (none for anyone else).

    Three queries whatever the number of people and visits (four with a manager's team
    tree): the people with their totals as correlated counts, the visits with their
    photo count, and who went along on them (陪同拜访). The visits use the (owner,
    checked_in_at) index."""
    visits = visits_on(Visit.objects.visible_to(user), day)
    theirs = visits.filter(owner=OuterRef("pk"))
    planned = PlanItem.objects.filter(plan__owner=OuterRef("pk"), plan__date=day, kind=PlanItemKind.VISIT)
    people = list(
        User.objects.visible_to(user)
        .annotate(
            check_ins=_count_of(theirs),
            flagged=_count_of(theirs.filter(far_from_customer=True)),
            no_location=_count_of(theirs.exclude(check_in_status=LocationStatus.FIXED)),
            planned_visits=_count_of(planned),
            planned_visits_checked_in=_count_of(
                planned.filter(Exists(Visit.objects.filter(plan_item=OuterRef("pk"))))
            ),
        )
        # Admins rarely visit: they are listed only on a day they checked in somewhere.
        .filter(Q(is_active=True, role__in=[Role.SALESPERSON, Role.MANAGER]) | Q(check_ins__gt=0))
        .only("username", "first_name", "last_name", "role", "is_active")
        .order_by("username")
    )
    ids = [person.pk for person in people]
    if owner_id is not None:
        ids = [owner_id] if owner_id in ids else []
    rows = list(
        visits.filter(owner_id__in=ids)
        .select_related("customer", "owner", "plan_item")
        .only(*TEAM_DAY_VISIT_FIELDS)
        .annotate(photo_count=_count_of(VisitPhoto.objects.filter(visit=OuterRef("pk"))))
        .prefetch_related(companions_prefetch())
        .order_by("checked_in_at", "pk")[: TEAM_DAY_ROWS + 1]
    )
    return TeamDay(
        day=day, people=people, visits=rows[:TEAM_DAY_ROWS], more=len(rows) > TEAM_DAY_ROWS, owner_id=owner_id
    )


# --- Accompanied visits (陪同拜访) ------------------------------------------------------------------


def companion_candidates(owner: User) -> QuerySet[User]:
    """Who may go along on ``owner``'s visits: the active people of the owner's team and
    its sub-teams (a mentor, 老带新) and the managers of that team and of every team
    above it — never the owner. Two queries (the team tree is small)."""
    if owner.team_id is None:
        return User.objects.none()
    teams = {
        team_id: (parent_id, manager_id)
        for team_id, parent_id, manager_id in Team.objects.values_list("id", "parent_id", "manager_id")
    }
    children: dict[int | None, list[int]] = {}
    for team_id, (parent_id, _manager_id) in teams.items():
        children.setdefault(parent_id, []).append(team_id)
    tree, stack = set(), [owner.team_id]
    while stack:
        team_id = stack.pop()
        if team_id not in tree:
            tree.add(team_id)
            stack.extend(children.get(team_id, []))
    managers, team_id, seen = set(), owner.team_id, set()
    while team_id in teams and team_id not in seen:
        seen.add(team_id)
        parent_id, manager_id = teams[team_id]
        managers.add(manager_id)
        team_id = parent_id
    return (
        User.objects.filter(Q(team_id__in=tree) | Q(pk__in=managers - {None}), is_active=True)
        .exclude(pk=owner.pk)
        .only("username", "first_name", "last_name", "role")
        .order_by("username")
    )


def companions_prefetch() -> Prefetch:
    """A visit's companions with their names: one query for any number of visits."""
    return Prefetch(
        "companions",
        queryset=VisitCompanion.objects.select_related("user").only(
            "visit_id",
            "user_id",
            "coaching_note",
            "noted_at",
            "added_at",
            "user__username",
            "user__first_name",
            "user__last_name",
            "user__role",
        ),
    )


def visits_joined(user: User, day: date) -> list[Visit]:
    """ "Visits you join today": the visits ``user`` goes along on that were checked in
    on ``day``, in time order, each with ``user``'s own coaching note (``my_note``).
    One query, on the (user, visit) index."""
    return list(
        visits_on(Visit.objects.filter(companions__user=user), day)
        .select_related("customer", "owner")
        .only(
            "owner_id",
            "customer_id",
            "checked_in_at",
            "checked_out_at",
            "customer__name",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
        )
        .annotate(my_note=F("companions__coaching_note"))
        .order_by("checked_in_at", "pk")[:MY_DAY_ROWS]
    )


def accompanied_visits(owners: Q, start: datetime, end: datetime) -> list[dict]:
    """Per person who went along (a manager, a mentor), how many visits they accompanied
    in [start, end), among the visits of the salespeople ``owners`` selects (a filter
    on ``visit__owner``, already within what the viewer may see): the weekly report's
    "accompanied visits". One grouped query; the most accompanied first."""
    week = Q(visit__checked_in_at__gte=start, visit__checked_in_at__lt=end)
    rows = (
        VisitCompanion.objects.filter(owners, week)
        .values("user_id", "user__username", "user__first_name", "user__last_name", "user__role")
        .annotate(visits=Count("visit_id", distinct=True))
        .order_by("-visits", "user__username")
    )
    return [
        {
            "user": row["user_id"],
            "role": row["user__role"],
            "visits": row["visits"],
            "name": User.name_from(row["user__first_name"], row["user__last_name"], row["user__username"]),
        }
        for row in rows
    ]


# --- Visit pages: check-in, the visit, the customer page's location panel and action bar ---------

CUSTOMER_PAGE_VISITS = 5
CUSTOMER_PAGE_VISIT_FIELDS = (
    "owner_id",
    "customer_id",
    "activity_id",
    "checked_in_at",
    "checked_out_at",
    "check_in_status",
    "distance_m",
    "far_from_customer",
)


def check_in_plan_items(user: User, customer: Customer, day: date) -> list[PlanItem]:
    """``user``'s plan items for ``customer`` on ``day`` (the check-in form's choices):
    visits before calls, open ones before done ones."""
    visits_first = Case(When(kind=PlanItemKind.VISIT, then=Value(0)), default=Value(1))
    return list(
        PlanItem.objects.filter(plan__owner=user, plan__date=day, customer=customer).order_by(
            visits_first, "done", "starts_at", "pk"
        )
    )


def location_annotations() -> dict[str, F]:
    """The customer's known location (and who set it) on the customer page's one query."""
    fields = (
        "latitude",
        "longitude",
        "source",
        "set_at",
        "set_by__username",
        "set_by__first_name",
        "set_by__last_name",
    )
    return {f"location_{name.replace('__', '_')}": F(f"field_location__{name}") for name in fields}


@dataclass
class CustomerVisits:
    """What the customer page shows of field visits: the last check-ins there (anyone's)
    and the viewer's own visit there today that is not checked out yet."""

    recent: list[Visit]
    open_visit: Visit | None


def customer_visits(user: User, customer: Customer, day: date | None = None) -> CustomerVisits:
    """The customer's last ``CUSTOMER_PAGE_VISITS`` check-ins and ``user``'s open visit
    there on ``day``, from the check-ins of the timeline's newest activities
    (``customer_activities``, read once for the page: no query of its own). A check-in
    logs its visit activity, so today's open visit is among the newest unless the
    timeline's whole length was logged after it."""
    start, end = day_bounds(day or timezone.localdate())
    checked_in = []
    for activity in customer_activities(customer, crm_selectors.TIMELINE_LENGTH):
        visit = getattr(activity, "visit", None)  # reverse one-to-one: absent on other kinds
        if visit is not None:
            visit.owner = activity.owner  # the visitor logged the visit activity
            checked_in.append(visit)
    open_visit = next(
        (
            visit
            for visit in checked_in
            if visit.owner_id == user.pk
            and visit.checked_out_at is None
            and start <= visit.checked_in_at < end
        ),
        None,
    )
    return CustomerVisits(recent=checked_in[:CUSTOMER_PAGE_VISITS], open_visit=open_visit)
