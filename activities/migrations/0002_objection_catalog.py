"""The seven classic objections of the method, each with its suggested answer in English and Chinese."""
from django.db import migrations

CLASSIC_OBJECTIONS = [
    # order, objection (en, zh), suggested answer (en, zh)
    (1, "Send me some material", "请寄书面资料给我",
     "Offer to bring the material in person instead of posting it: a brochure in the post moves nothing. "
     "Propose a concrete date and time, for example: \"I will bring it and explain it in fifteen minutes - "
     "would Tuesday at 10:00 or Wednesday at 14:00 suit you better?\"",
     "主动提出亲自把资料送过去并当面说明,而不是邮寄:寄出去的宣传册推动不了任何事情。"
     "给出具体的日期和时间,例如:\"我把资料带过去,用十五分钟给您讲清楚——您看周二上午十点还是周三下午两点更方便?\""),
    (2, "We do it in-house", "我们自己内部能够供应",
     "To a middle manager: we do not replace your team, we make it more efficient and free it for its core work. "
     "To an executive: we deliver the same result at a lower total cost than doing it in-house. "
     "Either way, propose a visit to show how other companies combine both.",
     "对中层管理者:我们不是取代贵公司的团队,而是让团队效率更高,把精力放在核心工作上。"
     "对高层管理者:我们能以比自己做更低的总成本达到同样的效果。"
     "无论对谁,都提出一次拜访,当面介绍其他企业是如何把两者结合起来的。"),
    (3, "We already have a supplier", "我们已经有了供应商",
     "Good - that shows you already value this kind of product. We do not ask you to drop your main supplier; "
     "we complement it, as a second source and a benchmark. Ask what the current supplier does not yet "
     "provide, find the unmet need, and propose a visit to discuss it.",
     "很好——这说明贵公司已经认可这类产品的价值。我们并不要求您放弃现有的主要供应商,而是作为补充,"
     "成为第二供应来源和比较基准。问一问现有供应商还有哪些做得不够的地方,找到尚未满足的需求,并提出一次拜访来详谈。"),
    (4, "I'm not in charge of this", "我不是这项工作的负责人",
     "Thank them and ask who is in charge of it. Ask for that person's name, title and direct number, "
     "and whether you may mention their name, so that the next call reaches the decision maker.",
     "先表示感谢,再请教这项工作由谁负责。请对方告知负责人的姓名、职务和直线电话,并询问能否提及是他推荐的,"
     "让下一通电话直接找到决策人。"),
    (5, "We have no budget", "我们没有这方面的预算",
     "Agree that nothing can be bought without a budget, and explain that the best time to build the relationship "
     "is before the next budget is drawn up. Ask when budgets are planned, offer to stay in their portfolio of "
     "suppliers, and agree a date to talk again.",
     "认同没有预算就无法采购,并说明建立合作关系的最佳时机正是在制定下一次预算之前。"
     "了解对方何时编制预算,争取进入其供应商名录,并约定下次沟通的具体时间。"),
    (6, "Your price is too high", "你们的价格太高了",
     "Move the talk from price to value and total cost: quality, service, delivery, running costs and risk. "
     "Ask what our price is being compared with, and compare like with like before talking about any discount.",
     "把话题从价格转到价值和总成本上:质量、服务、交付、使用成本和风险。"
     "先问清楚是在和什么进行比较,在同等条件下比较之后,再讨论是否有折扣的空间。"),
    (7, "We used you before and were not satisfied", "过去用过你们的产品,但不满意",
     "Thank them for saying so and ask exactly what went wrong. Explain what has changed since then - product, "
     "service, people - and offer a small, low-risk trial so they can judge for themselves.",
     "感谢对方坦诚相告,并详细询问当时具体出了什么问题。说明此后我们在产品、服务和人员方面做了哪些改进,"
     "并提出一次小规模、低风险的试用,让对方自己判断。"),
]


def seed_objections(apps, schema_editor):
    Objection = apps.get_model("activities", "Objection")
    for order, name, name_zh, answer, answer_zh in CLASSIC_OBJECTIONS:
        Objection.objects.update_or_create(name=name, defaults={
            "name_zh": name_zh, "answer": answer, "answer_zh": answer_zh, "order": order, "active": True,
        })


def remove_objections(apps, schema_editor):
    # Objections already logged on activities are protected and stay.
    Objection = apps.get_model("activities", "Objection")
    Objection.objects.filter(name__in=[row[1] for row in CLASSIC_OBJECTIONS], activities__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("activities", "0001_activities_plans_reports_and_escalations")]
    operations = [migrations.RunPython(seed_objections, remove_objections)]
