"""Week 3 answers."""

from answer_banks import Exercise

EXERCISES = {}
