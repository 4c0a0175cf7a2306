"""Default grades E→A of the method, plus won and lost, with playbooks in both languages."""
from django.db import migrations

DEFAULT_GRADES = [
    # code, order, kind, probability, stagnation days, locked, pool-return days, names, playbooks
    ("E", 1, "open", 10, 30, False, 60, "Prospect", "潜在客户",
     "Qualify the prospect: confirm the need, the scale and the purchasing power. Find the decision "
     "maker's name and direct number. Make the first call and agree a first visit.",
     "筛选潜在客户:确认需求、规模和购买力。找到决策人的姓名和直线电话。打第一通电话,约定首次拜访。"),
    ("D", 2, "open", 20, 21, False, 45, "Contacted", "联系客户",
     "Visit and present the company. Learn the needs, the current supplier and the budget cycle. "
     "Identify the key persons (decision maker, recommender, influencer) and agree the next step.",
     "上门拜访并介绍公司。了解需求、现有供应商和预算周期。识别关键人(决策型、推荐型、润滑型),约定下一步。"),
    ("C", 3, "open", 40, 21, False, 45, "Acknowledged", "认同客户",
     "The customer agrees with what we offer. Present the solution, offer a demonstration or trial, "
     "bring the decision maker in and collect what the quotation needs.",
     "客户认同我们的产品和服务。提交解决方案,安排演示或试用,让决策人参与,收集报价所需的信息。"),
    ("B", 4, "open", 60, 14, True, 30, "Intent (quoting)", "意向客户",
     "Quote and negotiate. Move the talk from price to value and total cost, confirm budget and "
     "timing. The account is locked: no change of owner at this stage.",
     "报价与谈判。把话题从价格转到价值和总成本,确认预算和时间。此阶段客户锁定,不得改派。"),
    ("A", 5, "open", 80, 14, False, 30, "Ready to buy (paperwork pending)", "准备购买(未办手续)客户",
     "Close the paperwork: contract, the customer's procurement steps and signatures. Confirm "
     "delivery and payment terms and fix the signing date.",
     "完成手续:合同、客户的采购流程和签字。确认交付和付款条件,确定签约日期。"),
    ("WON", 6, "won", 100, None, False, None, "Won", "成交客户",
     "Deliver, collect payment, and plan the repeat order and referrals.",
     "交付、回款,并计划复购和转介绍。"),
    ("LOST", 7, "lost", 0, None, False, None, "Lost", "流失客户",
     "Record why it was lost. Agree when to try again (e.g. before the next budget).",
     "记录流失原因。约定何时再跟进(例如下一个预算周期之前)。"),
]


def create_default_grades(apps, schema_editor):
    Grade = apps.get_model("funnel", "Grade")
    for (code, order, kind, probability, stagnation, locked, pool_return,
         name, name_zh, playbook, playbook_zh) in DEFAULT_GRADES:
        Grade.objects.update_or_create(code=code, defaults={
            "order": order, "kind": kind, "probability": probability, "stagnation_days": stagnation,
            "locked": locked, "pool_return_days": pool_return, "name": name, "name_zh": name_zh,
            "playbook": playbook, "playbook_zh": playbook_zh,
            "requires_decision_maker": code in {"C", "B", "A"},
        })


def remove_default_grades(apps, schema_editor):
    Grade = apps.get_model("funnel", "Grade")
    Grade.objects.filter(code__in=[row[0] for row in DEFAULT_GRADES], customers__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("funnel", "0001_grades_and_grade_history")]
    operations = [migrations.RunPython(create_default_grades, remove_default_grades)]
