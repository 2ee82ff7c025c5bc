from rest_framework.permissions import BasePermission

from accounts.models import User


class IsClient(BasePermission):
    message = "Only clients may do this."

    def has_permission(self, request, view):
        return bool(
            request.user and request.user.is_authenticated and request.user.role == User.Role.CLIENT
        )


class IsCounselor(BasePermission):
    message = "Only counselors may do this."

    def has_permission(self, request, view):
        return bool(
            request.user
            and request.user.is_authenticated
            and request.user.role == User.Role.COUNSELOR
        )


class IsStaffMember(BasePermission):
    message = "Only staff may do this."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_staff_member)
