"""The admin's one shared rule on deletion, for every app's admin.py (core imports no app, so
any app may use it). Refusing the delete permission is enough: Django then offers neither the
delete link nor the `delete_selected` action, and its delete view answers 403.

- DeletionRefused: nobody deletes the row in the admin, a superuser neither. Clinical and
  audit records (bookings, messages, intakes, alerts, the ledger, ...) and rows whose removal
  a service defines: they disappear only through that service (the retention purge
  `listening.services.session_content_purge`, account erasure `workflows.services.user_delete`)
  or never. The admin's cascade would skip the service's rules (an ethics hold, anonymising
  instead of deleting) and take the rows that refer to them along.
- SuperuserDeletes: only a superuser deletes, to clean up a mistake; staff take such rows down
  the services' way (withdraw, unpublish, deactivate) and keep the history."""

from __future__ import annotations


class DeletionRefused:
    def has_delete_permission(self, request, obj=None):
        return False


class SuperuserDeletes:
    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)
