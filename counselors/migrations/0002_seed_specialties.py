from django.db import migrations

# slug, English, Chinese, related slugs (feeds "related specialty" fit in matching)
SPECIALTIES = [
    ("anxiety", "Anxiety", "焦虑", ["stress", "sleep"]),
    ("stress", "Stress", "压力", ["anxiety", "career", "burnout"]),
    ("grief", "Grief and loss", "哀伤与丧失", ["loneliness"]),
    ("career", "Work and career", "职业与工作", ["stress", "burnout", "study"]),
    ("relationships", "Relationships", "亲密关系", ["family", "loneliness"]),
    ("new-parents", "New parents", "新手父母", ["family", "sleep", "stress"]),
    ("sleep", "Sleep", "睡眠", ["anxiety", "stress"]),
    ("self-esteem", "Self-esteem", "自我价值", ["relationships", "study"]),
    ("family", "Family", "家庭关系", ["relationships", "new-parents"]),
    ("loneliness", "Loneliness", "孤独感", ["relationships", "grief"]),
    ("burnout", "Burnout", "职业倦怠", ["stress", "career"]),
    ("study", "Study and exams", "学业与考试", ["stress", "career", "self-esteem"]),
    ("low-mood", "Low mood", "情绪低落", ["loneliness", "self-esteem", "sleep"]),
    ("lgbtq", "LGBTQ+ identity", "性少数身份认同", ["relationships", "family", "self-esteem"]),
]


def seed(apps, schema_editor):
    Specialty = apps.get_model("counselors", "Specialty")
    by_slug = {}
    for slug, en, zh, _related in SPECIALTIES:
        by_slug[slug], _ = Specialty.objects.update_or_create(
            slug=slug, defaults={"name_en": en, "name_zh": zh}
        )
    for slug, _en, _zh, related in SPECIALTIES:
        by_slug[slug].related.add(*[by_slug[r] for r in related])


def unseed(apps, schema_editor):
    apps.get_model("counselors", "Specialty").objects.filter(
        slug__in=[s[0] for s in SPECIALTIES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("counselors", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
