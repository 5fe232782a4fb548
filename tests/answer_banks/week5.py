"""Week 5 answers."""

from answer_banks import Exercise

EXERCISES = {}
