"""The class as Unix users, for a JupyterHub on one machine (``make hub-users ROSTER=...``).

Creates, from the roster ``make export`` reads, one user per student (home folder readable
by that student alone), the class's group (the exchange admits only it: `grader.exchange`),
and the course account that owns the course directory and runs the feedback service
(`grader.serve`). Needs root. Each new student gets a random password, written to a CSV
file only root can read, for the instructor to hand out (the hub logs users in with PAM).
Users that exist already are added to the group and keep their password.

    sudo .venv/bin/python -m grader.hub_users --roster roster.csv --group tf2-course \\
        --course-account tf2-grader --passwords hub-passwords.csv
"""

from __future__ import annotations

import argparse
import csv
import grp
import os
import pwd
import re
import secrets
import subprocess
import sys
from pathlib import Path

from grader.export import RosterError, read_roster

# What useradd accepts on every distribution, and what nbgrader can use as a student id.
USER_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")


class UsersError(Exception):
    """The users cannot be created as asked."""


def check_names(names: list[str]) -> None:
    bad = [name for name in names if not USER_NAME.fullmatch(name)]
    if bad:
        raise UsersError(f"these student ids cannot be Unix user names: {', '.join(bad)}; a name "
                         "is a lower-case letter or _ followed by up to 31 lower-case letters, "
                         "digits, _ or - (on a hub the student id is the user name)")


def _run(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise UsersError(f"{' '.join(command)} failed: {result.stderr.strip()}")


def exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def ensure_group(group: str) -> None:
    try:
        grp.getgrnam(group)
    except KeyError:
        _run("groupadd", group)


def ensure_user(name: str, group: str) -> str | None:
    """Create ``name`` (home 0700, in ``group``); return its new password, or None if the
    user existed (then it is only added to ``group``)."""
    if exists(name):
        _run("usermod", "--append", "--groups", group, name)
        password = None
    else:
        _run("useradd", "--create-home", "--shell", "/bin/bash", "--groups", group, name)
        password = secrets.token_urlsafe(12)
        subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)
    os.chmod(pwd.getpwnam(name).pw_dir, 0o700)
    return password


def create(students: list[str], group: str, course_account: str) -> dict[str, str]:
    """Create the group, the course account and the students; return new users' passwords."""
    if os.geteuid() != 0:
        raise UsersError("creating users needs root: run it with sudo")
    check_names([*students, course_account, group])
    ensure_group(group)
    passwords = {}
    for name in [course_account, *students]:
        password = ensure_user(name, group)
        if password is not None:
            passwords[name] = password
    return passwords


def remove(students: list[str], group: str, course_account: str) -> None:
    """Remove the users and the group again, with their home folders (what tests created)."""
    for name in [*students, course_account]:
        if exists(name):
            subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
            _run("userdel", "--remove", name)
    try:
        grp.getgrnam(group)
        _run("groupdel", group)
    except KeyError:
        pass


def write_passwords(passwords: dict[str, str], path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", newline="") as handle:
        writer = csv.writer(handle)
        if handle.tell() == 0:
            writer.writerow(["user", "password"])
        writer.writerows(sorted(passwords.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.hub_users",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--roster", type=Path, required=True, help="the class roster (CSV)")
    parser.add_argument("--group", required=True, help="the class's group, for example tf2-course")
    parser.add_argument("--course-account", required=True,
                        help="the user that owns the course and runs the feedback service")
    parser.add_argument("--passwords", type=Path, default=Path("hub-passwords.csv"),
                        help="where new users' passwords go (mode 0600; default %(default)s)")
    options = parser.parse_args(argv)
    try:
        students = [entry.student_id for entry in read_roster(options.roster)]
        passwords = create(students, options.group, options.course_account)
    except (RosterError, UsersError) as error:
        print(f"no users created: {error}", file=sys.stderr)
        return 1
    write_passwords(passwords, options.passwords)
    print(f"{len(students)} students in group {options.group}, course account "
          f"{options.course_account}; {len(passwords)} new users, passwords in {options.passwords}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
