"""The platform's starter packages, one per life stage the essay names (graduation, the first
months as a parent, retirement), bookable with any listed counselor. Prices are per package
(within the per-session bounds); staff can withdraw or add packages afterwards."""

from decimal import Decimal

from django.db import migrations
from django.utils import timezone

PACKAGES = [
    {
        "life_stage": "new_parent",
        "title_en": "First months as a parent",
        "title_zh": "初为父母的头几个月",
        "description_en": (
            "Four short sessions over eight weeks for the tiredness, worry and loneliness that "
            "can come with a new baby. Comes with an emotion diary and a breathing exercise."
        ),
        "description_zh": "八周内四次简短会谈，陪你面对新生儿带来的疲惫、担忧和孤单。附情绪日记和呼吸练习。",
        "sessions": 4,
        "duration_minutes": 30,
        "within_days": 56,
        "price": Decimal("480.00"),
        "items": ["emotion-diary", "box-breathing"],
    },
    {
        "life_stage": "graduation",
        "title_en": "After graduation",
        "title_zh": "毕业之后",
        "description_en": (
            "Three sessions over six weeks for the first steps after university: the job "
            "search, moving, and a self that has to be found again."
        ),
        "description_zh": "六周内三次会谈，陪你走过离开校园后的第一步：求职、搬家，以及重新认识自己。",
        "sessions": 3,
        "duration_minutes": 30,
        "within_days": 42,
        "price": Decimal("360.00"),
        "items": ["cognitive-distortions"],
    },
    {
        "life_stage": "retirement",
        "title_en": "Retirement",
        "title_zh": "退休",
        "description_en": (
            "Four sessions over two months for the change of days, roles and routines that "
            "retirement brings."
        ),
        "description_zh": "两个月内四次会谈，陪你适应退休带来的作息、角色和日常的变化。",
        "sessions": 4,
        "duration_minutes": 30,
        "within_days": 60,
        "price": Decimal("480.00"),
        "items": ["grounding-5-4-3-2-1"],
    },
]


def seed(apps, schema_editor):
    Package = apps.get_model("packages", "Package")
    ToolkitItem = apps.get_model("counselors", "ToolkitItem")
    for spec in PACKAGES:
        spec = dict(spec)
        slugs = spec.pop("items")
        package, created = Package.objects.get_or_create(
            counselor=None,
            title_en=spec["title_en"],
            defaults={**spec, "created_at": timezone.now()},
        )
        if created:
            package.items.set(ToolkitItem.objects.filter(owner=None, slug__in=slugs))


def unseed(apps, schema_editor):
    Package = apps.get_model("packages", "Package")
    Package.objects.filter(
        counselor=None, title_en__in=[p["title_en"] for p in PACKAGES], purchases__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("packages", "0001_packages_and_purchases"),
        ("counselors", "0007_starter_toolkit_library"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
