import os

from django.core.wsgi import get_wsgi_application

# Production unless told otherwise: a deployment that forgets the variable must not run in DEBUG.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
