from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.fields import AwareDateTimeField
from groups.models import GROUP_CAPACITY_MAX, GROUP_CAPACITY_MIN, GROUP_LENGTHS, pseudonym_for
from groups.rules import GROUP_RULES


class GroupCreateInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120)
    topic = serializers.CharField(max_length=500)
    start = AwareDateTimeField()
    duration_minutes = serializers.ChoiceField(choices=GROUP_LENGTHS)
    capacity = serializers.IntegerField(min_value=GROUP_CAPACITY_MIN, max_value=GROUP_CAPACITY_MAX)
    price = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=0)


class GroupSessionSerializer(serializers.Serializer):
    """A group as anyone allowed to see it sees it: seat counts, never who holds them. The
    caller's own seat (`my_seat`, `my_pseudonym`) is theirs alone."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    topic = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField()
    capacity = serializers.IntegerField()
    seats_taken = serializers.IntegerField()
    seats_left = serializers.SerializerMethodField()
    price = serializers.DecimalField(max_digits=8, decimal_places=2, coerce_to_string=False)
    status = serializers.CharField()
    counselor = serializers.IntegerField(source="counselor_id")
    counselor_name = serializers.CharField(source="counselor.display_name")
    joined = serializers.BooleanField()
    my_seat = serializers.SerializerMethodField()
    my_pseudonym = serializers.SerializerMethodField()
    rules = serializers.SerializerMethodField()
    room = serializers.SerializerMethodField()

    def get_seats_left(self, group) -> int:
        return max(0, group.capacity - group.seats_taken)

    def _seat(self, group):
        seats = self.context.get("my_seats") or {}
        return seats.get(group.pk)

    def get_my_seat(self, group) -> int | None:
        return self._seat(group)

    def get_my_pseudonym(self, group) -> str | None:
        seat = self._seat(group)
        return str(_(pseudonym_for(seat))) if seat else None

    def get_rules(self, group) -> list[str]:
        return [str(rule) for rule in GROUP_RULES]

    def get_room(self, group) -> str:
        return f"/ws/groups/{group.pk}/"
