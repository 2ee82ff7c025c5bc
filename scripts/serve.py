"""`make run`: migrate, load the demo data, then serve the ASGI app with a Celery worker
and Celery beat beside it. One Ctrl-C (or SIGTERM) stops all three.

Expects DATABASE_URL and REDIS_URL in the environment (scripts/devservices.py provides them)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = os.environ.get("PORT", "8000")


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], check=True, cwd=ROOT)
    subprocess.run([*manage, "load_demo"], check=True, cwd=ROOT)
    (ROOT / ".local").mkdir(exist_ok=True)
    commands = {
        # uvicorn measured faster than daphne on the booking benchmark (README, "ASGI server").
        "web": [
            str(BIN / "uvicorn"),
            "config.asgi:application",
            "--host",
            HOST,
            "--port",
            PORT,
            "--lifespan",
            "off",
            # Longer than a proxy or client keeps an idle connection (docs/operations.md).
            "--timeout-keep-alive",
            "75",
        ],
        "worker": [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
        ],
        "beat": [
            str(BIN / "celery"),
            "-A",
            "config",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(ROOT / ".local" / "celerybeat-schedule"),
        ],
    }
    procs = {name: subprocess.Popen(cmd, cwd=ROOT) for name, cmd in commands.items()}
    print(
        f"\nPianke is at http://{HOST}:{PORT}/  (API docs: /api/docs/, admin: /admin/). Ctrl-C stops.\n",
        flush=True,
    )

    def stop(*_):
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # When any one of them exits, stop the others: a half-running product is worse than none.
    while all(p.poll() is None for p in procs.values()):
        time.sleep(0.5)
    stop()
    for p in procs.values():
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
