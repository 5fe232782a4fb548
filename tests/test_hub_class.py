"""A class on one machine's JupyterHub, with real Linux users: the course
account secures the exchange and releases week 5; two students fetch, answer and submit as
themselves; one of them tries every abuse of the exchange nbgrader's users report (read,
forge, change or delete another's work, the release, the grades, the feedback); the
feedback service grades each submission as it arrives and releases each student's feedback
to them alone; it holds submissions beyond the daily feedback limit; killed while grading
and started again, it loses nothing and grades nothing twice. Then the hub itself: each
student logs in with their password to their own server, sees the Assignment List and not
the formgrader, and cannot open another's server; the course account's formgrader lists both.

Needs root (users are created with `grader.hub_users` and removed afterwards) and bwrap."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from grader import serve
from grader.config import CourseConfig
from testkit import small_class
from testkit.browser import SECONDS, chromium, formgrader, screenshot, students_table
from testkit.course import ROOT, answered, assignment_points, read_notebook
from testkit.hub import HUB_PYTHON, HubClass, as_user, why_no_users
from testkit.servers import free_port, unavailable

WEEK = small_class.WEEK
BROWSER_WEEK = "week1_sequential"  # what the students work on in Chromium
POINTS = small_class.POINTS
PER_DAY = 2
PYTHON = str(HUB_PYTHON)
LIMITS = tuple(small_class.LIMITS)


@pytest.fixture(scope="module")
def machine(bwrap, hub_python):
    """The class: ana, ben and the course account, week 5 released."""
    reason = why_no_users()
    if reason:
        unavailable(reason)
    machine = HubClass(WEEK, ["ana", "ben"], PER_DAY)
    machine.ana, machine.ben = machine.students
    try:
        machine.create()
        yield machine
    finally:
        machine.remove()


@pytest.fixture(scope="module")
def submitted(machine):
    """Both fetch; ana answers everything, ben the first exercise; ben also submits as ana.
    Returns each abuse ben tried before the service ran, with what it gave."""
    m = machine
    for student in (m.ana, m.ben):
        m.nbgrader(student, "fetch_assignment", WEEK)
    m.submit(m.ana, None)
    ana_entry = next(name for name in os.listdir(m.exchange.inbound) if name.startswith(m.ana))
    m.submit(m.ben, [small_class.first_answer()])
    m.submit(m.ben, [small_class.first_answer()], f"--CourseDirectory.student_id={m.ana}")  # a forgery
    inbound_entry = m.exchange.inbound / ana_entry
    tries = {
        "list inbound": as_user(m.ben, "ls", str(m.exchange.inbound)),
        "take ana's submission away": as_user(m.ben, "mv", str(inbound_entry),
                                              str(m.top / "taken")),
        "rename the course's exchange folder": as_user(m.ben, "mv", str(m.exchange.course),
                                                        str(m.exchange.root / "elsewhere")),
        "replace the released assignment": as_user(
            m.ben, "sh", "-c", f"echo {{}} > {m.exchange.outbound / WEEK / 'assignment.ipynb'}"),
        "delete the released assignment": as_user(m.ben, "rm", "-rf", str(m.exchange.outbound / WEEK)),
        "read the gradebook": as_user(m.ben, "cat", str(m.course / "gradebook.db")),
        "read ana's home": as_user(m.ben, "ls", f"/home/{m.ana}"),
    }
    return ana_entry, tries


@pytest.fixture(scope="module")
def served(machine, submitted):
    """One pass of the service; then each student fetches their feedback."""
    m = machine
    result = m.instructor(*m.serve_command("--once", grade_options=LIMITS))
    feedback = {}
    for student in (m.ana, m.ben):
        m.nbgrader(student, "fetch_feedback", WEEK)
        pages = list((Path(f"/home/{student}") / WEEK / "feedback").glob("*/assignment.html"))
        feedback[student] = [page.read_text() for page in pages]
    return result, feedback


def test_the_exchange_stops_each_abuse_by_permissions(machine, submitted):
    _, tries = submitted
    for attempt, result in tries.items():
        assert result.returncode != 0, f"ben could {attempt}: {result.stdout[:300]}"
        assert "ermission denied" in result.stderr or "not permitted" in result.stderr, \
            f"{attempt}: {result.stderr}"
    assert (machine.exchange.outbound / WEEK / "assignment.ipynb").stat().st_size > 1000


def test_a_submission_in_another_students_name_is_refused_with_the_reason(machine, served):
    rows = machine.queue()[machine.ana]
    forged = [row for row in rows if row.state == serve.REFUSED]
    assert len(forged) == 1 and len(rows) == 2, [(row.state, row.detail) for row in rows]
    assert f"belongs to {machine.ben}" in forged[0].detail and "someone else" in forged[0].detail
    status = machine.instructor(*machine.serve_command("--status")).stdout
    assert "refused" in status and f"belongs to {machine.ben}" in status, status


def test_each_submission_is_graded_and_its_feedback_released(machine, served):
    result, feedback = served
    assert result.returncode == 0, result.stderr[-3000:]
    queue = machine.queue()
    assert [row.state for row in queue[machine.ben]] == [serve.RELEASED]
    assert serve.RELEASED in [row.state for row in queue[machine.ana]]
    for student, score in ((machine.ana, POINTS), (machine.ben, None)):
        assert len(feedback[student]) == 1, f"{student} fetched {len(feedback[student])} pages"
        found = re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", feedback[student][0])
        assert found and float(found[2]) == POINTS, feedback[student][0][:500]
        if score is not None:
            assert float(found[1]) == score
    assert 0 < float(re.search(r"Score:\s*([\d.]+)", feedback[machine.ben][0])[1]) < POINTS


def test_no_student_can_read_anothers_submission_or_feedback(machine, submitted, served):
    m, (ana_entry, _) = machine, submitted
    pages = set(m.exchange.feedback.glob("*.html"))  # a page per notebook submitted
    readable = {student: {page for page in pages if as_user(student, "cat", str(page)).returncode == 0}
                for student in (m.ana, m.ben)}
    assert readable[m.ana] and readable[m.ben] and not readable[m.ana] & readable[m.ben]
    assert readable[m.ana] | readable[m.ben] == pages
    for student in (m.ana, m.ben):  # and what each can read is their own
        own = (m.course / "feedback" / student / WEEK / "assignment.html").read_bytes()
        assert [page for page in readable[student] if page.read_bytes() == own], student
    taken = as_user(m.ben, "cat", str(m.exchange.received / ana_entry / "assignment.ipynb"))
    assert taken.returncode != 0 and "ermission denied" in taken.stderr
    assert not (m.exchange.inbound / ana_entry).exists(), "the service took it out of inbound"
    # Asking for ana's feedback in her name gives ben nothing: he has not her submission's secret.
    m.nbgrader(m.ben, "fetch_feedback", WEEK, f"--CourseDirectory.student_id={m.ana}", check=False)
    pages = list((Path(f"/home/{m.ben}") / WEEK / "feedback").glob("*/assignment.html"))
    assert len(pages) == 1 and m.ana not in pages[0].read_text()


def test_the_service_killed_while_grading_loses_nothing_and_grades_nothing_twice(machine, served):
    m = machine
    m.submit(m.ben, None)  # everything answered now: his second feedback of the day
    with m.service(grade_options=LIMITS) as service:
        deadline = time.monotonic() + 300
        while not any(row.state == serve.GRADING for row in m.queue().get(m.ben, [])):
            assert time.monotonic() < deadline and service.poll() is None, service.stdout.read()
            time.sleep(0.5)
        time.sleep(5)  # well into grading: sandboxes started
        pgid = int((m.course / "grading-logs" / "_service.pgid").read_text())
    assert m.queue()[m.ben][-1].state == serve.GRADING

    result = m.instructor(*m.serve_command("--once", grade_options=LIMITS))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "not graded before the restart" in result.stderr
    assert not [p for p in _processes_of(m.grader) if serve._pgid(p) == pgid]
    last = m.queue()[m.ben][-1]
    assert last.state == serve.RELEASED, (last.state, last.detail)
    scores = small_class.scores(m.course)
    assert sum(scores[m.ben].values()) == POINTS
    assert _grading_runs(m, m.ben) == 3, "the first, the one killed, and one after the restart"

    # Killed after the gradebook recorded it but before the queue did: not graded again.
    engine = create_engine(CourseConfig.load(m.course).db_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE submission_queue SET state = 'grading' WHERE entry = :e"),
                           {"e": last.entry})
    result = m.instructor(*m.serve_command("--once", grade_options=LIMITS))
    assert "graded before the restart" in result.stderr, result.stderr
    assert m.queue()[m.ben][-1].state == serve.RELEASED
    assert _grading_runs(m, m.ben) == 3


def test_submissions_beyond_the_daily_feedback_are_held(machine, served):
    m = machine
    rows = m.queue()[m.ben]
    if sum(row.state == serve.RELEASED for row in rows) < PER_DAY:
        pytest.skip("runs after the crash test, which gives ben his second feedback")
    m.submit(m.ben, [small_class.first_answer()])
    result = m.instructor(*m.serve_command("--once", grade_options=LIMITS))
    assert result.returncode == 0
    held = m.queue()[m.ben][-1]
    assert held.state == serve.HELD and f"the most a day ({PER_DAY})" in held.detail
    assert _grading_runs(m, m.ben) == 3


def _processes_of(user: str):
    import psutil

    return [process for process in psutil.process_iter(["username"])
            if process.info["username"] == user]


def _grading_runs(machine: HubClass, student: str) -> int:
    log = (machine.course / "grading-logs" / WEEK / "_service.log").read_text()
    return sum(1 for line in log.splitlines()
               if line.startswith("== ") and f"--student {student}" in line)


# The rules that choose what to grade, on a queue in a throwaway gradebook, with a clock.

@pytest.fixture
def rules(tmp_path):
    config = replace(CourseConfig.load(ROOT), db_url=f"sqlite:///{tmp_path / 'gradebook.db'}",
                     feedback_per_day=1, due_dates={WEEK: datetime(2026, 3, 1, 12)})
    clock = [datetime(2026, 3, 1, 9)]
    service = serve.Service(config, (WEEK,), now=lambda: clock[0])
    return service, serve.Queue(config.db_url), clock


def _add(queue, clock, entry: str) -> None:
    student, _, claimed = entry.split("+")
    queue.add(entry, student, WEEK, claimed, clock[0])


def test_only_the_latest_waiting_submission_of_a_student_is_graded(rules):
    service, queue, clock = rules
    for minute in (1, 2, 3):
        _add(queue, clock, f"ana+{WEEK}+2026-03-01 09:0{minute}:00.000000 UTC")
    chosen = serve.choose(service, queue)
    assert [row.entry.endswith("09:03:00.000000 UTC") for row in chosen] == [True]
    assert [row.state for row in queue.rows()] == [serve.SUPERSEDED] * 2 + [serve.QUEUED]


def test_beyond_the_limit_a_submission_waits_for_the_next_day_or_the_due_date(rules):
    service, queue, clock = rules
    _add(queue, clock, f"ana+{WEEK}+2026-03-01 08:00:00.000000 UTC")
    queue.set(queue.rows()[0].entry, serve.RELEASED, released_at=clock[0])
    clock[0] += timedelta(hours=1)
    _add(queue, clock, f"ana+{WEEK}+2026-03-01 10:00:00.000000 UTC")
    assert serve.choose(service, queue) == []
    assert queue.rows(serve.HELD)[0].detail.startswith("feedback given 1 times in 24 hours")
    clock[0] = datetime(2026, 3, 1, 12, 0, 1)  # the due date passed: what came on time is graded
    assert [row.state for row in serve.choose(service, queue)] == [serve.HELD]
    _add(queue, clock, f"ana+{WEEK}+2026-03-01 12:30:00.000000 UTC")  # late, and over the limit
    queue.set(queue.rows(serve.HELD)[0].entry, serve.RELEASED, released_at=clock[0])
    assert serve.choose(service, queue) == []
    clock[0] += timedelta(hours=24, seconds=1)  # a day after the last feedback: graded
    assert len(serve.choose(service, queue)) == 1


# The hub itself: students log in with their Unix password and get their own server.

@pytest.fixture(scope="module")
def hub(machine, served):
    """The class's JupyterHub (make hub's command) on a free port of 127.0.0.1, with week 1
    released too, and the feedback service for both weeks as the hub's service."""
    machine.add_week(BROWSER_WEEK)
    installed = subprocess.run(["make", "-C", str(ROOT), "hub/node_modules/.installed"],
                               capture_output=True, text=True, timeout=600)
    if installed.returncode != 0:
        unavailable(f"the hub's proxy could not be installed from npm: {installed.stderr[-1000:]}")
    port = free_port()
    env = dict(os.environ, HUB_COURSE=str(machine.course), HUB_GROUP=machine.group,
               HUB_COURSE_ACCOUNT=machine.grader, HUB_PORT=str(port),
               HUB_INTERNAL_PORT=str(free_port()), HUB_PROXY_API_PORT=str(free_port()),
               HUB_STATE=str(machine.top / "hub-state"), HUB_SERVE=f"{WEEK} {BROWSER_WEEK}")
    log = open(machine.top / "hub.log", "w")
    process = subprocess.Popen([str(Path(PYTHON).parent / "jupyterhub"), "-f", "jupyterhub_config.py"],
                               cwd=ROOT / "hub", env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{url}/hub/api", timeout=5).ok:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, \
                (machine.top / "hub.log").read_text()[-3000:]
            time.sleep(1)
        with open(machine.top / "passwords.csv", newline="") as handle:
            passwords = {row["user"]: row["password"] for row in csv.DictReader(handle)}
        yield url, passwords
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def logged_in(url: str, user: str, password: str) -> requests.Session:
    """A browser session of ``user``, logged in through the hub's login form, with their
    server started (the hub starts it on login)."""
    session = requests.Session()
    session.get(f"{url}/hub/login", timeout=30)
    response = session.post(f"{url}/hub/login", timeout=30, data={
        "username": user, "password": password, "_xsrf": session.cookies.get("_xsrf", "")})
    assert response.ok and "/hub/login" not in response.url, f"{user} could not log in"
    deadline = time.monotonic() + 180
    while not (status := session.get(f"{url}/user/{user}/api/status", timeout=30)).ok:
        assert time.monotonic() < deadline, f"{user}'s server did not start: {status.status_code}"
        session.get(f"{url}/hub/spawn/{user}", timeout=60)
        time.sleep(2)
    return session


def test_students_log_in_to_their_own_server_and_see_the_assignment_list(machine, hub):
    url, passwords = hub
    ana = logged_in(url, machine.ana, passwords[machine.ana])
    listed = ana.get(f"{url}/user/{machine.ana}/assignments",
                     params={"course_id": machine.exchange.course_id}, timeout=60).json()
    assert listed["success"], listed
    assert WEEK in {item["assignment_id"] for item in listed["value"]}, listed
    # nbgrader's formgrader is not a student's: its server extension is off for students.
    assert ana.get(f"{url}/user/{machine.ana}/formgrader", timeout=30).status_code == 404
    wrong = requests.post(f"{url}/hub/login", timeout=30, data={
        "username": machine.ana, "password": "not-her-password"})
    assert "/hub/login" in wrong.url or wrong.status_code == 403


def test_a_student_cannot_open_anothers_server(machine, hub):
    url, passwords = hub
    ben = logged_in(url, machine.ben, passwords[machine.ben])
    theirs = ben.get(f"{url}/user/{machine.ana}/api/contents/{WEEK}", timeout=60,
                     allow_redirects=True)
    assert theirs.status_code in (403, 404) or f"/user/{machine.ben}/" in theirs.url, \
        (theirs.status_code, theirs.url)
    assert "assignment.ipynb" not in theirs.text


def test_the_course_account_grades_in_the_formgrader(machine, hub):
    url, passwords = hub
    grader = logged_in(url, machine.grader, passwords[machine.grader])
    students = grader.get(f"{url}/user/{machine.grader}/formgrader/api/submissions/{WEEK}",
                          timeout=60).json()
    assert {machine.ana, machine.ben} <= {row["student"] for row in students}, students


# Two students in Chromium: log in, fetch week 1 from the Assignment List, answer, submit,
# and fetch the feedback the hub's service releases.

def lab_of(browser, url: str, user: str, password: str):
    """A page of ``user``'s JupyterLab, logged in through the hub's login form."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{url}/hub/login")
    page.locator("#username_input").fill(user)
    page.locator("#password_input").fill(password)
    page.locator("#login_submit").click()
    page.locator(".jp-DirListing").first.wait_for(timeout=240 * SECONDS)
    return page


def assignment_list(page):
    """Open Nbgrader > Assignment List; return its panel."""
    page.get_by_role("menuitem", name="Nbgrader", exact=True).click()
    page.get_by_role("menuitem", name="Assignment List", exact=True).click()
    panel = page.locator("#released_assignments_list").locator("..").locator("..")
    page.locator("#released_assignments_list").wait_for(timeout=60 * SECONDS)
    return panel


def row_button(page, listing: str, label: str):
    row = page.locator(f"#{listing} .list_item", has_text=BROWSER_WEEK)
    row.first.wait_for(timeout=120 * SECONDS)
    return row.get_by_role("button", name=label, exact=True)


def save_as_editor_does(page, url: str, user: str, notebook) -> None:
    """Write ``notebook`` into the student's fetched copy through their own server's
    contents API (what JupyterLab's save does), from their browser session."""
    xsrf = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "_xsrf")
    response = page.request.put(
        f"{url}/user/{user}/api/contents/{BROWSER_WEEK}/assignment.ipynb",
        headers={"X-XSRFToken": xsrf, "Content-Type": "application/json"},
        data=json.dumps({"type": "notebook", "format": "json", "content": notebook}))
    assert response.ok, (response.status, response.text()[:500])


@pytest.mark.browser
def test_two_students_submit_in_chromium_and_each_fetches_only_their_feedback(machine, hub):
    url, passwords = hub
    answers = {machine.ana: None, machine.ben: ["w1_scale_images"]}  # None: every answer
    week_points = assignment_points(BROWSER_WEEK)
    with chromium() as browser:
        pages = {}
        for student, grade_ids in answers.items():
            page = pages[student] = lab_of(browser, url, student, passwords[student])
            assignment_list(page)
            row_button(page, "released_assignments_list", "Fetch").click()
            row_button(page, "fetched_assignments_list", "Submit").wait_for(timeout=60 * SECONDS)
            solution = read_notebook(ROOT / "solutions" / BROWSER_WEEK / "assignment.ipynb")
            fetched = read_notebook(Path(f"/home/{student}") / BROWSER_WEEK / "assignment.ipynb")
            save_as_editor_does(page, url, student, answered(fetched, solution, grade_ids))
            row_button(page, "fetched_assignments_list", "Submit").click()
            row_button(page, "submitted_assignments_list", "Fetch Feedback").wait_for(
                timeout=120 * SECONDS)
            screenshot(page, f"hub-{student[-3:]}-submitted")

        deadline = time.monotonic() + 900  # the hub's service grades both
        while not all(machine.queue_state(student, BROWSER_WEEK) == serve.RELEASED
                      for student in answers):
            assert time.monotonic() < deadline, machine.queue()
            time.sleep(2)

        scores = {}
        for student, page in pages.items():
            page.reload()
            assignment_list(page)
            row_button(page, "submitted_assignments_list", "Fetch Feedback").click()
            feedback = f"{url}/user/{student}/api/contents/{BROWSER_WEEK}/feedback"
            deadline = time.monotonic() + 120
            while not (listed := page.request.get(feedback)).ok:
                if time.monotonic() > deadline:
                    screenshot(page, f"hub-{student[-3:]}-no-feedback")
                    raise AssertionError(f"{student} fetched no feedback: "
                                         f"{page.locator('#submitted_assignments_list').inner_text()}")
                page.wait_for_timeout(2 * SECONDS)
            page.reload()
            assignment_list(page)
            page.locator("#submitted_assignments_list a", has_text="view feedback").first.wait_for(
                timeout=120 * SECONDS)
            screenshot(page, f"hub-{student[-3:]}-feedback")
            stamp = listed.json()["content"][0]["name"]
            html_page = page.request.get(f"{url}/user/{student}/files/{BROWSER_WEEK}/feedback/"
                                         f"{stamp}/assignment.html").text()
            found = re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", html_page)
            assert found and float(found[2]) == week_points, html_page[:300]
            scores[student] = float(found[1])
            other = next(name for name in answers if name != student)
            assert page.request.get(f"{url}/user/{other}/api/contents/{BROWSER_WEEK}").status in (403, 404)

        # The course account's formgrader lists both students with their overall scores.
        page = lab_of(browser, url, machine.grader, passwords[machine.grader])
        table = students_table(formgrader(page), showing=machine.ben)
        screenshot(page, "hub-formgrader-students")
    assert scores[machine.ana] == week_points
    assert 0 < scores[machine.ben] < week_points
    # The Overall Score adds up both weeks: week 5 (graded by the tests above, if they ran) and 1.
    gradebook = [small_class.scores(machine.course, week) for week in (WEEK, BROWSER_WEEK)]
    for student in answers:
        overall = sum(sum(week.get(student, {}).values()) for week in gradebook)
        assert re.search(rf"{student}\s.*\b{overall:g} / {POINTS + week_points:g}\b", table), table
