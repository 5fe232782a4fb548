"""Week 1's answer bank against its real test cells (answer_banks/runner.py says how)."""

from answer_banks.runner import bank_tests

(outcomes, test_every_exercise_has_a_full_bank, test_correct_answer_gets_full_points,
 test_wrong_answer_loses_points) = bank_tests("week1_sequential")
