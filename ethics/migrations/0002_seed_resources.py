import datetime

from django.db import migrations

VERIFIED = datetime.date(2026, 11, 24)

# Widely published crisis lines; each with where it is published. Staff keep them current in the admin.
RESOURCES = [
    (
        "hotline",
        "全国心理援助热线 12356 / National psychological assistance hotline",
        "CN",
        "zh",
        "12356",
        "24/7",
        "国家卫生健康委开通的全国统一心理援助热线。",
        "National Health Commission of China announcement (2025)",
    ),
    (
        "hotline",
        "北京心理危机研究与干预中心 / Beijing Psychological Crisis Research and Intervention Center",
        "CN",
        "zh",
        "010-82951332",
        "24/7",
        "北京回龙观医院的心理危机干预热线。",
        "Beijing Huilongguan Hospital; listed by the WHO-affiliated IASP crisis centre directory",
    ),
    (
        "hotline",
        "希望24热线 / Hope 24 hotline",
        "CN",
        "zh",
        "400-161-9995",
        "24/7",
        "全国性的生命救助热线。",
        "Hope 24 hotline website (hope24.org.cn)",
    ),
    (
        "hotline",
        "急救 120 / 报警 110 (Emergency)",
        "CN",
        "zh",
        "120 / 110",
        "24/7",
        "生命有危险时，请立即拨打。",
        "Chinese national emergency numbers",
    ),
    (
        "hotline",
        "The Samaritans Hong Kong 香港撒玛利亚防止自杀会",
        "HK",
        "yue",
        "2389 2222",
        "24/7",
        "24-hour emotional support in Cantonese and English.",
        "The Samaritans Hong Kong (samaritans.org.hk)",
    ),
    (
        "hotline",
        "安心专线 / Taiwan MOHW 1925 Peace of Mind line",
        "TW",
        "zh",
        "1925",
        "24/7",
        "卫生福利部 24 小时安心专线。",
        "Taiwan Ministry of Health and Welfare",
    ),
    (
        "hotline",
        "988 Suicide & Crisis Lifeline",
        "US",
        "en",
        "988 (call or text)",
        "24/7",
        "Free, confidential support for people in distress.",
        "988lifeline.org (SAMHSA)",
    ),
    (
        "hotline",
        "Samaritans",
        "GB",
        "en",
        "116 123",
        "24/7",
        "Whatever you're going through, a Samaritan will face it with you.",
        "samaritans.org",
    ),
    (
        "hotline",
        "Befrienders Worldwide: find a helpline",
        "global",
        "en",
        "https://befrienders.org",
        "",
        "A directory of emotional support helplines around the world.",
        "Befrienders Worldwide",
    ),
]


def seed(apps, schema_editor):
    Resource = apps.get_model("ethics", "Resource")
    for kind, name, region, language, contact, hours, description, source in RESOURCES:
        Resource.objects.update_or_create(
            name=name,
            defaults={
                "kind": kind,
                "region": region,
                "language": language,
                "contact": contact,
                "hours": hours,
                "description": description,
                "source": source,
                "last_verified": VERIFIED,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("ethics", "Resource").objects.filter(name__in=[r[1] for r in RESOURCES]).delete()


class Migration(migrations.Migration):
    dependencies = [("ethics", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
