"""Referral destinations beyond the crisis lines: longer-term counselling, hospital psychiatry,
EAP, support groups, books and courses. Widely published entries, each with where it is
published; staff re-verify and extend them in the admin (`last_verified`)."""

import datetime

from django.db import migrations

VERIFIED = datetime.date(2026, 11, 25)

RESOURCES = [
    (
        "hospital-psychiatry",
        "北京大学第六医院 / Peking University Sixth Hospital (Institute of Mental Health)",
        "CN",
        "zh",
        "https://www.pkuh6.cn",
        "门诊时间见医院官网 / see the hospital's website",
        "国家精神心理疾病临床医学研究中心所在医院，提供精神科与心理门诊。",
        "Peking University Sixth Hospital website; National Clinical Research Center for Mental Disorders",
    ),
    (
        "hospital-psychiatry",
        "上海市精神卫生中心 / Shanghai Mental Health Center",
        "CN",
        "zh",
        "https://www.smhc.org.cn",
        "门诊时间见医院官网 / see the hospital's website",
        "上海交通大学医学院附属精神卫生中心，提供精神科、心理咨询与心理治疗门诊。",
        "Shanghai Mental Health Center website",
    ),
    (
        "long-term-counseling",
        "当地三甲医院心理科或精神卫生中心 / Psychology clinic of your local hospital",
        "CN",
        "zh",
        "通过医院挂号平台预约“心理咨询”或“心理治疗”门诊",
        "",
        "需要持续、长期的心理咨询或心理治疗时，可预约当地三甲医院心理科或精神卫生中心的门诊；医生可评估是否需要药物治疗。",
        "National Health Commission guidance on mental health services (精神卫生服务)",
    ),
    (
        "hotline",
        "Hospital Authority Mental Health Direct 精神健康专线",
        "HK",
        "yue",
        "2466 7350",
        "24/7",
        "24-hour mental health advice line of Hong Kong's Hospital Authority.",
        "Hospital Authority, Hong Kong",
    ),
    (
        "long-term-counseling",
        "NHS Talking Therapies (self-referral)",
        "GB",
        "en",
        "https://www.nhs.uk/service-search/mental-health/find-an-nhs-talking-therapies-service",
        "",
        "Free NHS therapy for anxiety and depression in England; you can refer yourself.",
        "nhs.uk",
    ),
    (
        "long-term-counseling",
        "FindTreatment.gov",
        "US",
        "en",
        "https://findtreatment.gov",
        "",
        "Confidential locator of mental health and substance use treatment in the United States.",
        "SAMHSA (findtreatment.gov)",
    ),
    (
        "support-group",
        "Mind Infoline",
        "GB",
        "en",
        "0300 123 3393",
        "",
        "Information on mental health problems, where to get help and local Mind support groups.",
        "mind.org.uk",
    ),
    (
        "support-group",
        "NAMI Connection support groups",
        "US",
        "en",
        "https://www.nami.org/support-groups/",
        "",
        "Free peer-led support groups for adults living with mental health conditions.",
        "nami.org",
    ),
    (
        "eap",
        "Employee Assistance Programme (EAP) of your employer / 单位的员工援助计划",
        "global",
        "en",
        "Ask your HR department / 向人力资源部门咨询",
        "",
        "Many employers pay for a few confidential counselling sessions through an EAP; ask HR whether yours does.",
        "Employee Assistance Professionals Association (eapassn.org)",
    ),
    (
        "book",
        "Feeling Good: The New Mood Therapy (David D. Burns) / 《伯恩斯新情绪疗法》",
        "global",
        "en",
        "ISBN 978-0-380-81033-8",
        "",
        "A classic self-help book on cognitive behavioural techniques for low mood.",
        "HarperCollins; widely cited in CBT bibliotherapy studies",
    ),
    (
        "book",
        "The Mindful Way Through Depression (Williams, Teasdale, Segal, Kabat-Zinn) / 《穿越抑郁的正念之道》",
        "global",
        "en",
        "ISBN 978-1-59385-128-6",
        "",
        "Mindfulness-based cognitive therapy for people who have been depressed.",
        "Guilford Press",
    ),
    (
        "course",
        "The Science of Well-Being (Yale University, Coursera)",
        "global",
        "en",
        "https://www.coursera.org/learn/the-science-of-well-being",
        "self-paced",
        "A free course on what the research says about happiness and habits.",
        "coursera.org",
    ),
    (
        "course",
        "Psychological First Aid (Johns Hopkins University, Coursera)",
        "global",
        "en",
        "https://www.coursera.org/learn/psychological-first-aid",
        "self-paced",
        "How to support people in distress (useful for friends and family).",
        "coursera.org",
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
    dependencies = [("ethics", "0003_review")]
    operations = [migrations.RunPython(seed, unseed)]
