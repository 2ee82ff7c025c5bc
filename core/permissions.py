"""Who may call an API view, by role: the API's counterpart of `core.pages.role_required`.
They read the user's role properties, so the kernel needs no model."""

from rest_framework.permissions import BasePermission


class _RolePermission(BasePermission):
    role_test = staticmethod(lambda user: False)

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and self.role_test(user))


class IsClient(_RolePermission):
    message = "Only clients may do this."
    role_test = staticmethod(lambda user: user.is_client)


class IsCounselor(_RolePermission):
    message = "Only counselors may do this."
    role_test = staticmethod(lambda user: user.is_counselor)


class IsStaffMember(_RolePermission):
    message = "Only staff may do this."
    role_test = staticmethod(lambda user: user.is_staff_member)


class IsResponder(_RolePermission):
    message = "Only on-call supervisors and staff may do this."
    role_test = staticmethod(lambda user: user.is_crisis_responder)
