"""The anonymised facts the insights are read from, rebuilt whole by the nightly run.

No row here names a client, a booking or a comment: a fact has coarsened time (the ISO week,
the weekday and hour in the platform's zone), the session's shape, and `client_key`, an HMAC of
the client's id under a salt that is drawn fresh for each run and never stored. The key lets a
query count *distinct clients* in a cell (the k-anonymity rule) and nothing else: it cannot be
reversed, and it links to no other run. Every read of these tables is an aggregate
(insights/selectors.py); none returns a fact."""

from django.db import models
from django.db.models import Q

from core.sessions import SessionMode


class InsightsRun(models.Model):
    """The one row that the nightly run locks (SELECT ... FOR UPDATE SKIP LOCKED) to claim
    the rebuild, and that records when the facts now in place were built."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    built_at = models.DateTimeField(null=True, blank=True)
    session_facts = models.PositiveIntegerField(default=0)
    request_facts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="insights_run_singleton")]

    def __str__(self):
        return f"insights built {self.built_at}"


class SessionFact(models.Model):
    """One completed session, anonymised. `counselor_id` is kept (a plain integer, no
    foreign key: a fact outlives nothing) because a counselor sees their own figures."""

    client_key = models.CharField(max_length=64)
    counselor_id = models.BigIntegerField()
    # The organisation whose allowance paid for the session (a plain integer, like
    # counselor_id): its admin reads the sessions and topics of these facts only.
    organisation_id = models.BigIntegerField(null=True, blank=True)
    week = models.DateField(help_text="Monday of the ISO week, in the platform's zone.")
    weekday = models.PositiveSmallIntegerField()  # 0 = Monday
    hour = models.PositiveSmallIntegerField()
    topic = models.CharField(max_length=120)
    mode = models.CharField(max_length=8, choices=SessionMode.choices)
    duration_minutes = models.PositiveSmallIntegerField()
    feedback_given = models.BooleanField()
    pre_distress = models.PositiveSmallIntegerField(null=True)
    post_distress = models.PositiveSmallIntegerField(null=True)
    # Another completed session of the client within 30 days after this one; None while the
    # 30 days have not yet passed (such sessions stay out of the rate's denominator).
    returned_any_30d = models.BooleanField(null=True)
    returned_same_30d = models.BooleanField(null=True)
    referral_made = models.BooleanField(default=False)
    referral_accepted = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__lte=6, hour__lte=23), name="session_fact_weekday_hour"
            ),
            models.CheckConstraint(
                condition=Q(feedback_given=False) | Q(pre_distress__lte=10, post_distress__lte=10),
                name="session_fact_distress_0_10",
            ),
        ]
        indexes = [
            # Platform tables: `WHERE week BETWEEN from AND to GROUP BY <dimension>`.
            models.Index(fields=["week"], name="session_fact_week_idx"),
            # A counselor's own outcomes: `WHERE counselor_id = ? AND week BETWEEN ...`.
            models.Index(fields=["counselor_id", "week"], name="session_fact_counselor_idx"),
            # An organisation admin's tables: `WHERE organisation_id = ? AND week BETWEEN ...`.
            models.Index(
                fields=["organisation_id", "week"],
                name="session_fact_organisation_idx",
                condition=Q(organisation_id__isnull=False),
            ),
        ]

    def __str__(self):
        return f"session fact {self.pk}"


class RequestFact(models.Model):
    """One talk-now request, anonymised: when it came (coarsened), its topic, whether it
    was matched and how long the client waited (to the second, matched requests only)."""

    class Outcome(models.TextChoices):
        MATCHED = "matched", "matched"
        NO_MATCH = "no_match", "no_match"
        CANCELLED = "cancelled", "cancelled"

    client_key = models.CharField(max_length=64)
    week = models.DateField()
    weekday = models.PositiveSmallIntegerField()
    hour = models.PositiveSmallIntegerField()
    topic = models.CharField(max_length=120)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    wait_seconds = models.PositiveIntegerField(null=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__lte=6, hour__lte=23), name="request_fact_weekday_hour"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["matched", "no_match", "cancelled"]),
                name="request_fact_outcome_valid",
            ),
        ]
        indexes = [
            # The heat map, topics, waits: `WHERE week BETWEEN from AND to`.
            models.Index(fields=["week"], name="request_fact_week_idx"),
        ]

    def __str__(self):
        return f"request fact {self.pk}"


class KeywordFact(models.Model):
    """That a client used a word in feedback in a given week: the comment itself is never
    copied, only its keywords (stop-words removed), one row per client, week and word."""

    client_key = models.CharField(max_length=64)
    week = models.DateField()
    language = models.CharField(max_length=2)  # zh | en
    word = models.CharField(max_length=60)

    class Meta:
        indexes = [
            # Feedback keywords: `WHERE week BETWEEN ... GROUP BY language, word`.
            models.Index(fields=["week"], name="keyword_fact_week_idx"),
        ]

    def __str__(self):
        return f"keyword {self.word}"


class OfferFact(models.Model):
    """Talk-now offers per week, split by whether the counselor was in their first 30 days
    on the platform when offered: exposure fairness. Counts only, no ids."""

    week = models.DateField()
    new_counselor = models.BooleanField()
    offers = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["week", "new_counselor"], name="offer_fact_unique")
        ]

    def __str__(self):
        return f"offers {self.week} new={self.new_counselor}"


class DutySample(models.Model):
    """How many counselors were on talk-now duty at a minute, and how many of them were in
    their first 30 days. Matching keeps only the present state of duty (`Presence`), so a
    beat task samples it every minute; the share of duty time is the share of samples.
    Counts only, no ids; kept, not rebuilt (the past cannot be sampled again)."""

    taken_at = models.DateTimeField(unique=True)  # truncated to the minute: one per minute
    on_duty = models.PositiveIntegerField()
    on_duty_new = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(on_duty_new__lte=models.F("on_duty")), name="duty_sample_new_le_all"
            )
        ]

    def __str__(self):
        return f"duty {self.taken_at}: {self.on_duty_new}/{self.on_duty}"
