"""Browser pages (server-rendered)."""

urlpatterns = []
