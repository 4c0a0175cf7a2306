"""The method's own words (SPEC §6), declared once.

Pages (``{% term "DIALS" %}``), Excel/CSV export headers and API labels all read these
terms, so a screen, its export and its API cannot name the same number differently. Each
term's ``Translators:`` comment carries the method's Chinese word into the ``.po`` file.
Terms whose English word also means something else elsewhere ("Orders" is a list of
orders on the customer page, "Connected" a call stage) carry a context, so the method's
word does not leak there. ``crm`` sits at the bottom of the apps: every app may import this.
"""

from django.utils.text import format_lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

# --- The call funnel (电话销售漏斗): dials → completed → appointments → presentations → orders

# Translators: call funnel, calls dialled. The method's word: 拨打数
DIALS = _("Dials")
# Translators: call funnel, calls that reached the person. The method's word: 实际完成数
CALLS_COMPLETED = pgettext_lazy("call funnel", "Connected")
# Translators: call funnel, appointments agreed on the phone. The method's word: 约见次数
APPOINTMENTS = _("Appointments")
# Translators: call funnel, presentations given. The method's word: 推荐次数
PRESENTATIONS = _("Presentations")
# Translators: call funnel, orders signed. The method's word: 成交数
CALL_ORDERS = pgettext_lazy("call funnel", "Orders")
# Translators: call funnel, the orders' amount. The method's word: 销售总额
CALL_SALES_TOTAL = pgettext_lazy("call funnel", "Amount")
# Translators: order amount ÷ dials. The method's word: 每次电话销售金额
SALES_PER_DIAL = _("Revenue per dial")
# Translators: the method's word: 佣金比率 (佣金, never 提成)
COMMISSION_RATE = _("Commission rate")
# Translators: sales per dial × commission rate. The method's word: 每次电话销售佣金
COMMISSION_PER_DIAL = _("Commission per dial")

# --- The weekly sales management report (周销售管理报告)

# Translators: weekly report and targets. The method's word: 新开发客户数
NEW_CUSTOMERS = _("New customers")
# Translators: weekly report. The method's word: 有效拜访率
EFFECTIVE_VISIT_RATE = _("Effective-visit rate")
# Translators: weekly report, customers won ÷ customers worked. The method's word: 交易率
TRANSACTION_RATE = _("Transaction rate")
# Translators: weekly report, the week's sales ÷ salespeople. The method's word: 平均每人每周销售额
AVERAGE_WEEKLY_SALES_PER_PERSON = _("Average sales per person")
# Translators: weekly report and activities. The method's word: 竞争者动态
COMPETITOR_NEWS = _("Competitor news")
# Translators: weekly report, stuck or overdue customers and complaints. The method's word: 异常客户处理
EXCEPTIONAL_CUSTOMERS = _("Abnormal customers")

# --- Contact cadence (联系频率): the method counts in months, quarters and years, not days

# Translators: contact cadence of 30 days. The method's word: 每月
MONTHLY = _("Monthly")
# Translators: contact cadence of 90 days. The method's word: 每季度
QUARTERLY = _("Quarterly")
# Translators: contact cadence of 180 days. The method's word: 每半年
HALF_YEARLY = _("Every six months")
# Translators: contact cadence of 365 days. The method's word: 每年
YEARLY = _("Yearly")
CADENCE_WORDS = {30: MONTHLY, 90: QUARTERLY, 180: HALF_YEARLY, 365: YEARLY}

# --- The seven classic objections (拒绝理由), as the method words them: the catalog's seed

CLASSIC_OBJECTIONS = (
    ("Send me some material", "请寄书面资料给我"),
    ("We do it in-house", "我们自己内部能够供应你们这种产品(服务)"),
    ("We already have a supplier", "我们已经有了供应商"),
    ("I'm not in charge of this", "我不是这项工作的负责人"),
    ("We have no budget", "我们没有购买你们产品或服务的财务预算"),
    ("Your price is too high", "你们的价格太高了"),
    ("We used you before and were not satisfied", "我们过去曾用过你们的产品,但觉得不满意"),
)


def cadence_label(days: int | None) -> str:
    """A cadence in the method's words: 30 days → "Monthly" (每月), 90 → "Quarterly",
    180 → "Every six months", 365 → "Yearly"; any other number stays "Every N days"."""
    if days is None:
        return "—"
    word = CADENCE_WORDS.get(days)
    if word is not None:
        return str(word)
    if days == 1:
        return gettext("Daily")
    return gettext("Every %(days)s days") % {"days": days}


def in_percent(term):
    """A rate's column header with its unit, "Transaction rate (%)": the same term as the
    page's row, so the two cannot drift apart. Lazy, for module-level headers."""
    # Translators: a rate with its unit, e.g. 交易率（%）
    return format_lazy(_("{term} (%)"), term=term)
