"""What every app uses and no app owns: the funnel's grades (E → A, won, lost), which the
customer carries and the funnel, activities and reports read.

Tables keep their names (``funnel_grade``): the model moved here from the funnel app
(core migration 0001, state only), so that ``crm`` never points up at ``funnel``.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class GradeKind(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class GradeQuerySet(models.QuerySet):
    def open(self) -> "GradeQuerySet":
        return self.filter(kind=GradeKind.OPEN)


class Grade(models.Model):
    """One layer of the funnel, configured by admins. Open grades are ordered from the
    top of the funnel (E, order 1) to the bottom (A); won and lost are terminal."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name (English)"), max_length=100)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100, blank=True)
    order = models.PositiveSmallIntegerField(
        _("order"),
        unique=True,
        help_text=_("Position in the funnel: 1 is the top (prospects)."),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=GradeKind.choices, default=GradeKind.OPEN)
    probability = models.DecimalField(
        _("win probability (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    stagnation_days = models.PositiveSmallIntegerField(
        _("stagnation limit (days)"),
        null=True,
        blank=True,
        help_text=_("A customer longer than this at the grade raises a stagnation alert."),
    )
    locked = models.BooleanField(
        _("locked"),
        default=False,
        help_text=_("No change of owner while a customer is at this grade."),
    )
    pool_return_days = models.PositiveSmallIntegerField(
        _("pool-return days"),
        null=True,
        blank=True,
        help_text=_("Customers with no activity for this many days go back to the public pool."),
    )
    requires_decision_maker = models.BooleanField(
        _("requires a decision maker"),
        default=False,
        help_text=_(
            "Customers at this grade are flagged when no decision maker is identified (C and above)."
        ),
    )
    playbook = models.TextField(
        _("playbook (English)"),
        blank=True,
        help_text=_("What to do at this grade; shown on the customer page."),
    )
    playbook_zh = models.TextField(_("playbook (Chinese)"), blank=True)

    history = HistoricalRecords(table_name="funnel_historicalgrade")
    objects = GradeQuerySet.as_manager()

    class Meta:
        db_table = "funnel_grade"
        ordering = ["order"]
        verbose_name = _("grade")
        verbose_name_plural = _("grades")
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__gte=0, probability__lte=100), name="grade_probability_0_100"
            ),
            models.CheckConstraint(
                condition=~Q(kind=GradeKind.WON) | Q(probability=100), name="grade_won_is_100"
            ),
            models.CheckConstraint(
                condition=~Q(kind=GradeKind.LOST) | Q(probability=0), name="grade_lost_is_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.display_name}"

    @property
    def display_name(self) -> str:
        language = translation.get_language() or ""
        return self.name_zh if language.startswith("zh") and self.name_zh else self.name

    @property
    def label(self) -> str:
        """The short name on badges and in short mentions: the code of an open grade
        (E … A); for won and lost, the kind in the user's language (成交客户 / 流失客户),
        as a code such as WON means nothing in the Chinese interface."""
        return self.code if self.is_open else self.get_kind_display()

    @property
    def display_playbook(self) -> str:
        language = translation.get_language() or ""
        return self.playbook_zh if language.startswith("zh") and self.playbook_zh else self.playbook

    @property
    def is_open(self) -> bool:
        return self.kind == GradeKind.OPEN

    def clean(self):
        """Terminal grades carry fixed probabilities; open grades rise strictly with order."""
        errors = {}
        if self.probability is not None and not Decimal(0) <= self.probability <= Decimal(100):
            errors["probability"] = _("Probability must be between 0 and 100.")
        elif self.kind == GradeKind.WON and self.probability != 100:
            errors["probability"] = _("The won grade has a probability of 100 %.")
        elif self.kind == GradeKind.LOST and self.probability != 0:
            errors["probability"] = _("The lost grade has a probability of 0 %.")
        elif self.kind == GradeKind.OPEN and self.probability is not None and self.order is not None:
            others = Grade.objects.open().exclude(pk=self.pk)
            below = others.filter(order__lt=self.order, probability__gte=self.probability).first()
            above = others.filter(order__gt=self.order, probability__lte=self.probability).first()
            if below or above:
                errors["probability"] = _(
                    "Probabilities must rise strictly down the funnel: %(grade)s has %(probability)s %%."
                ) % {"grade": (below or above).code, "probability": (below or above).probability}
        if errors:
            raise ValidationError(errors)
