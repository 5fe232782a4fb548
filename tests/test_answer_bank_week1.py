"""Week 1's answer bank against its real test cells (answer_banks/runner.py says how)."""

from answer_banks.runner import bank_tests
from testkit.course import ROOT, WEEKS

(outcomes, test_every_exercise_has_a_full_bank, test_correct_answer_gets_full_points,
 test_wrong_answer_loses_points) = bank_tests("week1_sequential")


def test_every_week_has_an_answer_bank_module():
    """One module per week (this one checks them all): a new week needs its own."""
    modules = sorted(path.name for path in (ROOT / "tests").glob("test_answer_bank_week*.py"))
    assert modules == [f"test_answer_bank_{week.split('_')[0]}.py" for week in WEEKS]
