"""Bookings mark their counselor's free time stale too (counselors 0009): on insert and
delete, and on an update only of what decides free time (its times, status or counselor), so
that the chat's `message_seq` increments and the like do not touch the state row."""

from django.db import migrations

FORWARD = """
CREATE TRIGGER listening_booking_free_time_stale
    AFTER INSERT OR DELETE ON listening_booking
    FOR EACH ROW EXECUTE FUNCTION counselors_free_time_stale();
CREATE TRIGGER listening_booking_free_time_stale_update
    AFTER UPDATE OF start, "end", status, counselor_id ON listening_booking
    FOR EACH ROW
    WHEN (
        OLD.start IS DISTINCT FROM NEW.start
        OR OLD."end" IS DISTINCT FROM NEW."end"
        OR OLD.status IS DISTINCT FROM NEW.status
        OR OLD.counselor_id IS DISTINCT FROM NEW.counselor_id
    )
    EXECUTE FUNCTION counselors_free_time_stale();
"""
BACKWARD = """
DROP TRIGGER listening_booking_free_time_stale ON listening_booking;
DROP TRIGGER listening_booking_free_time_stale_update ON listening_booking;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("listening", "0009_booking_package_purchase"),
        ("counselors", "0009_free_time"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
