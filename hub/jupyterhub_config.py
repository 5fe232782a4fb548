"""The class's JupyterHub on one machine: ``make hub`` (as root; see README, "A class on JupyterHub").

- Users log in with their Unix password (PAM); only the class's group and the course
  account may (``make hub-users`` creates both from the roster).
- Each user's server runs as that Unix user, from the environment every user can run
  (``make hub-env``: .venv-hub), with JupyterLab.
- Students get nbgrader's Assignment List only (hub/student-config, copied into the
  environment: the course id and the exchange); the course account's server opens in the
  course directory, with the formgrader.
- The feedback service (`grader.serve`) runs beside the hub as the course account, started
  and stopped by the hub, for the assignments in HUB_SERVE.
- The proxy is configurable-http-proxy, installed into hub/node_modules from npm.

Settings come from the environment ``make hub`` passes: HUB_COURSE (the course directory),
HUB_GROUP, HUB_COURSE_ACCOUNT, HUB_IP, HUB_PORT (HUB_INTERNAL_PORT and HUB_PROXY_API_PORT:
the hub's and the proxy's own ports on 127.0.0.1), HUB_STATE (the hub's own files: its SQLite
database and cookie secret, root's alone) and HUB_SERVE (assignments to grade on submit,
separated by spaces; none: no service).
"""

import os
import shutil
import sys
from pathlib import Path

from grader.config import CourseConfig

c = get_config()  # noqa: F821 -- provided by JupyterHub when it loads this file

HERE = Path(__file__).resolve().parent
COURSE = Path(os.environ.get("HUB_COURSE", HERE.parent)).resolve()
GROUP = os.environ.get("HUB_GROUP", "tf2-course")
COURSE_ACCOUNT = os.environ.get("HUB_COURSE_ACCOUNT", "tf2-grader")
STATE = Path(os.environ.get("HUB_STATE", HERE / "state"))
BIN = Path(sys.executable).parent  # the hub runs from .venv-hub, as the servers do
config = CourseConfig.load(COURSE)
if config.exchange_root is None:
    raise SystemExit(f"{COURSE / 'nbgrader_config.py'} sets no Exchange.root: the hub's class "
                     "submits through the exchange (see README, 'A class on JupyterHub')")

STATE.mkdir(mode=0o700, parents=True, exist_ok=True)
# Students' servers read their configuration from the environment they run (the course
# checkout is private to the course account): a copy of hub/student-config goes there.
STUDENT_CONFIG = Path(sys.prefix) / "share" / "tf2-course" / "student-config"
shutil.copytree(HERE / "student-config", STUDENT_CONFIG, dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("__pycache__"))
for path in [STUDENT_CONFIG.parent, *STUDENT_CONFIG.parent.rglob("*")]:
    path.chmod(0o755 if path.is_dir() else 0o644)
c.JupyterHub.ip = os.environ.get("HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("HUB_INTERNAL_PORT", "8081"))  # the hub's own
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('HUB_PROXY_API_PORT', '8001')}"
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.command = [str(HERE / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")

c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {GROUP}
c.Authenticator.allowed_users = {COURSE_ACCOUNT}
c.Authenticator.admin_users = {COURSE_ACCOUNT}

c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.http_timeout = 120  # a first start on a loaded machine imports a lot
c.Spawner.start_timeout = 120
c.Spawner.environment = {
    "PATH": f"{BIN}:/usr/bin:/bin",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
}


def course_or_student(spawner) -> None:
    """The course account works in the course directory; students in their home, with only
    the Assignment List of nbgrader (hub/student-config)."""
    if spawner.user.name == COURSE_ACCOUNT:
        spawner.notebook_dir = str(COURSE)
        spawner.environment.update({  # the server starts in the home folder: say where to grade
            "JUPYTER_CONFIG_PATH": f"{HERE / 'instructor-config'}{os.pathsep}{COURSE}",
            "TF2_COURSE": str(COURSE),
        })
    else:
        spawner.environment.update({
            "JUPYTER_CONFIG_PATH": str(STUDENT_CONFIG),
            "TF2_COURSE_ID": config.course_id,
            "TF2_EXCHANGE_ROOT": str(config.exchange_root),
        })


c.Spawner.pre_spawn_hook = course_or_student

serve = os.environ.get("HUB_SERVE", "").split()
if serve:
    c.JupyterHub.services = [{
        "name": "feedback",
        "user": COURSE_ACCOUNT,
        "command": [str(BIN / "python"), "-m", "grader.serve", *serve, "--root", str(COURSE)],
        "cwd": str(COURSE),
        "environment": {"PATH": f"{BIN}:/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"},
    }]
