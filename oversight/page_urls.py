"""Browser pages of oversight: the staff review of ethics flags, and a client's referrals."""

from django.urls import path

from oversight import pages

urlpatterns = [
    path("staff/flags/", pages.flag_list, name="staff-flags"),
    path("staff/flags/<int:flag_id>/", pages.flag_detail, name="staff-flag"),
    path("staff/flags/<int:flag_id>/assign/", pages.flag_assign, name="staff-flag-assign"),
    path("staff/flags/<int:flag_id>/notes/", pages.flag_note, name="staff-flag-note"),
    path("staff/flags/<int:flag_id>/resolve/", pages.flag_resolve, name="staff-flag-resolve"),
    path("staff/flags/<int:flag_id>/content/", pages.flag_content, name="staff-flag-content"),
    path("referrals/", pages.referrals, name="referrals"),
    path(
        "referrals/<int:referral_id>/accept/",
        pages.referral_answer,
        {"answer": "accept"},
        name="referral-accept-page",
    ),
    path(
        "referrals/<int:referral_id>/decline/",
        pages.referral_answer,
        {"answer": "decline"},
        name="referral-decline-page",
    ),
]
