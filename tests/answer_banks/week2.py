"""Week 2 answers."""

from answer_banks import Exercise

EXERCISES = {}
