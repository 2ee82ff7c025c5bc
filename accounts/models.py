import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not an IANA time zone such as Asia/Shanghai."),
                              params={"value": value})


class User(AbstractUser):
    """Anyone who signs in. Clients are pseudonymous: a username and password suffice."""

    class Role(models.TextChoices):
        CLIENT = "client", _("Client")
        COUNSELOR = "counselor", _("Counselor")
        STAFF = "staff", _("Staff")
        SUPERVISOR = "supervisor", _("On-call supervisor")

    class Language(models.TextChoices):
        ZH_HANS = "zh-hans", "简体中文"
        EN = "en", "English"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CLIENT)
    timezone = models.CharField(max_length=64, default="Asia/Shanghai", validators=[validate_timezone])
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.ZH_HANS)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=["client", "counselor", "staff", "supervisor"]),
                                   name="user_role_valid"),
        ]

    @property
    def is_client(self) -> bool:
        return self.role == self.Role.CLIENT

    @property
    def is_counselor(self) -> bool:
        return self.role == self.Role.COUNSELOR

    @property
    def is_staff_member(self) -> bool:
        """Staff in the product's sense (credential verification, ethics review)."""
        return self.role == self.Role.STAFF or self.is_superuser
