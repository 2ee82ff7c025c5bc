"""The matching engine: pure scoring of (request, counselor) pairs and batch assignment.

Nothing here touches the ORM at import time; callers turn model rows into the plain facts in
`matching.scoring` and pass score matrices to `matching.assignment.assign`.
"""
