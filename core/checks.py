from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks

# The check ids keep their first home's prefix (listening.E00x): deployments silence checks by id.
# The keys committed for development and tests: public, so never for real content.
PUBLISHED_KEYS = {
    "KGmkKos2RO2XvZ-rGU5H-hDBt883zd9GmQIwbE_i78Q=",
    "q1_4GAczdPVM1IvGj6gFtWRdklcqRN-IR6si_4GygfI=",
}


@checks.register(checks.Tags.security)
def encryption_keys_check(app_configs, **kwargs):
    errors = []
    keys = list(getattr(settings, "ENCRYPTION_KEYS", []))
    if not keys:
        errors.append(
            checks.Error(
                "ENCRYPTION_KEYS is empty: session content cannot be encrypted.",
                id="listening.E001",
            )
        )
    for key in keys:
        try:
            Fernet(key.encode())
        except ValueError:
            errors.append(
                checks.Error(
                    "ENCRYPTION_KEYS holds a value that is not a Fernet key.",
                    hint="Make one with: python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'",
                    id="listening.E002",
                )
            )
    return errors


@checks.register(checks.Tags.security, deploy=True)
def encryption_keys_deploy_check(app_configs, **kwargs):
    if PUBLISHED_KEYS & set(getattr(settings, "ENCRYPTION_KEYS", [])):
        return [
            checks.Error(
                "ENCRYPTION_KEYS contains a development key published in the repository.",
                id="listening.E003",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def site_url_deploy_check(app_configs, **kwargs):
    """E-mails link back to PIANKE_SITE_URL (a reminder's session, the one-click unsubscribe):
    a deployment left on the development default would send links that lead nowhere."""
    if not getattr(settings, "PIANKE_SITE_URL", "").startswith("https://"):
        return [
            checks.Warning(
                "PIANKE_SITE_URL is not an https:// address: links in e-mails would not reach "
                "the site.",
                hint="Set PIANKE_SITE_URL to the public address, e.g. https://pianke.example.org",
                id="core.W001",
            )
        ]
    return []
