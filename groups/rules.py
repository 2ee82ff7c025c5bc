"""The group rules every client reads (and accepts) before taking a seat, shown on the group
page, in the API (`rules`) and at the top of the room."""

from django.utils.translation import gettext_lazy as _

GROUP_RULES = (
    _(
        "What is said in the group stays in the group: do not repeat or share what others say, "
        "or anything that could identify them."
    ),
    _("No recording, screenshots or copying of the conversation."),
    _(
        "Everyone appears under a seat name (Participant 1, 2, …); do not ask for or share "
        "names, contact details or social media."
    ),
    _(
        "You can leave at any time: close the room. Before the start you can give up your seat "
        "on the group's page."
    ),
    _(
        "The counselor may mute or remove a participant to keep the group safe. If you are in "
        "crisis, the counselor can talk with you privately, and the crisis lines are always shown."
    ),
)
