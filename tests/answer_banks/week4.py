"""Week 4 answers."""

from answer_banks import Exercise

EXERCISES = {}
