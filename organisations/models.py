"""Organisations that sponsor sessions: an employer's EAP or a school, its admins, its
members, the allowance it pays and the per-quarter counters that keep the allowance honest.

No model here knows a booking: listening links its booking to an `AllowanceClaim`, never the
other way, so an organisation's rows cannot lead anyone to a session. The counters carry their
own cap so that a CHECK constraint (`used <= cap`) can back up the conditional UPDATE that
takes a session (organisations/services.py explains the choice)."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.sessions import SESSION_LENGTHS, SessionMode


class Organisation(models.Model):
    class Kind(models.TextChoices):
        COMPANY = "company", _("Employer (EAP)")
        SCHOOL = "school", _("School")

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # Stored upper-case without spaces (organisation_create normalises it); a member types it
    # in any case. Null, not blank, so that many organisations may have none (unique).
    join_code = models.CharField(max_length=32, unique=True, null=True, blank=True)
    # Members may instead confirm an address at this domain (lower-case, no "@").
    email_domain = models.CharField(max_length=253, unique=True, null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["company", "school"]), name="organisation_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(join_code__isnull=True) | Q(join_code__regex=r"^[A-Z0-9-]{4,32}$"),
                name="organisation_join_code_shape",
            ),
            models.CheckConstraint(
                condition=Q(email_domain__isnull=True)
                | Q(email_domain__regex=r"^[a-z0-9.-]+\.[a-z]{2,}$"),
                name="organisation_email_domain_shape",
            ),
        ]

    def __str__(self):
        return self.name


class OrganisationAdmin(models.Model):
    """A user who manages one organisation: reads its k-anonymous usage, its join code and
    its allowance. An admin is an ordinary user otherwise (often a member too). One
    organisation per admin, so every admin page and the insights API know whose figures to
    show without being told."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="admins")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organisation_admin"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"admin {self.user_id} of {self.organisation_id}"


class Membership(models.Model):
    """A client sponsored by an organisation. One organisation per client, so a booking has
    at most one allowance that may pay for it."""

    class Via(models.TextChoices):
        CODE = "code", _("Join code")
        EMAIL = "email", _("Verified e-mail address")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organisation_membership"
    )
    via = models.CharField(max_length=8, choices=Via.choices)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(via__in=["code", "email"]), name="membership_via_valid"
            )
        ]

    def __str__(self):
        return f"member {self.user_id} of {self.organisation_id}"


class EmailVerification(models.Model):
    """An address a client gave to join by e-mail domain, until they open the link sent to it.
    The link carries a signed token naming this row (no secret is stored); the address is
    cleared once confirmed, as nothing needs it after that."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The per-user limit on links sent: `WHERE user_id = ? AND created_at > ?`.
            models.Index(fields=["user", "created_at"], name="org_email_verif_user_idx"),
        ]

    def __str__(self):
        return f"e-mail verification {self.pk}"


class Allowance(models.Model):
    """What an organisation pays for: each member may use `sessions_per_member` sessions a
    calendar quarter (in the platform's zone), all members together at most
    `pool_per_quarter`, and only sessions of the listed lengths and modes."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="allowance"
    )
    sessions_per_member = models.PositiveSmallIntegerField()
    pool_per_quarter = models.PositiveIntegerField()
    durations = ArrayField(models.PositiveSmallIntegerField(), default=list)
    modes = ArrayField(models.CharField(max_length=8, choices=SessionMode.choices), default=list)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(durations__contained_by=list(SESSION_LENGTHS)),
                name="allowance_durations_valid",
            ),
            models.CheckConstraint(
                condition=Q(modes__contained_by=list(SessionMode.values)),
                name="allowance_modes_valid",
            ),
        ]

    def __str__(self):
        return f"allowance of {self.organisation_id}"

    @property
    def mode_labels(self) -> list[str]:
        labels = dict(SessionMode.choices)
        return [str(labels.get(mode, mode)) for mode in self.modes]


class PoolQuarter(models.Model):
    """The organisation's pool for one quarter: sessions taken so far and the cap."""

    allowance = models.ForeignKey(Allowance, on_delete=models.CASCADE, related_name="+")
    quarter = models.DateField(help_text="First day of the quarter, in the platform's zone.")
    cap = models.PositiveIntegerField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            # The claim's `WHERE allowance_id = ? AND quarter = ?` row, and one per quarter.
            models.UniqueConstraint(fields=["allowance", "quarter"], name="pool_quarter_unique"),
            models.CheckConstraint(
                condition=Q(used__lte=F("cap")), name="pool_quarter_used_le_cap"
            ),
        ]

    def __str__(self):
        return f"pool {self.allowance_id} {self.quarter}: {self.used}/{self.cap}"


class MemberQuarter(models.Model):
    """One member's own sessions for one quarter: taken so far and the cap."""

    allowance = models.ForeignKey(Allowance, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    quarter = models.DateField()
    cap = models.PositiveIntegerField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            # The claim's `WHERE allowance_id = ? AND user_id = ? AND quarter = ?` row.
            models.UniqueConstraint(
                fields=["allowance", "user", "quarter"], name="member_quarter_unique"
            ),
            models.CheckConstraint(
                condition=Q(used__lte=F("cap")), name="member_quarter_used_le_cap"
            ),
        ]

    def __str__(self):
        return f"member {self.user_id} {self.quarter}: {self.used}/{self.cap}"


class Refusal(models.TextChoices):
    """Why an allowance did not pay for a booking; the label is the note the client sees."""

    INACTIVE = "inactive", _("Your organisation's allowance is not active at the moment.")
    DURATION = (
        "duration",
        _("Your organisation's allowance does not cover sessions of this length."),
    )
    MODE = "mode", _("Your organisation's allowance does not cover this kind of session.")
    MEMBER_USED_UP = (
        "member_used_up",
        _("You have used all the sessions your organisation sponsors this quarter."),
    )
    POOL_USED_UP = (
        "pool_used_up",
        _("Your organisation's sponsored sessions for this quarter are all taken."),
    )


class AllowanceClaim(models.Model):
    """One session paid by an allowance. `released_at` is set when it went back to the
    allowance (a cancellation in time, the counselor's absence); a claim never released is a
    session used. Only staff ever read a claim with its client: an organisation's admin sees
    the k-anonymous figures of insights, nothing of this table."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    allowance = models.ForeignKey(Allowance, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    quarter = models.DateField()
    duration_minutes = models.PositiveSmallIntegerField()
    mode = models.CharField(max_length=8, choices=SessionMode.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"claim {self.pk}"
