"""Domain signals other apps may receive (connected in their AppConfig.ready()).

Sent after commit only, so a receiver never hears of a change that was rolled back."""

from django.dispatch import Signal

# A live session ended (its counselor is free again). Arguments: booking_id, counselor_id.
session_ended = Signal()
