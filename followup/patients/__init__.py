"""A patient's status, and the only package that changes it: one state machine, consent included.

    active ──pause (clinic)──> paused ──resume (clinic)──> active
    active, paused ──programme over (scheduler)──> completed
    any but opted_out ──STOP (patient) / 21610 (carrier)──> opted_out ──START (patient)──> active
    any but unenrolled ──unenroll (clinic) / forget (erasure)──> unenrolled

TRANSITIONS (states.py) is that drawing as data: which (from, to) moves exist and who may make each.
Every change goes through `_move`, which refuses anything else; the rooms add what each move means
(the consent history, the audit trail, what is cancelled or planned again).

Owns the `patient`, `enrolment` and `consent` tables, except `enrolment.planned_until`: the planner's
bookmark of how far it has planned (planner.py), which nothing else reads or writes.

One module a room; callers import the package (`patients.opt_out(...)`), which hands on their names:
states     the state machine: Status, By, TRANSITIONS, may, refusal (and _move)
senders    who wrote an inbound SMS: find_sender (Sender)
enrolling  creation and changes: create (Person, Programme), change, drop_enrolment
clinician  a clinician's moves: pause, resume, unenroll, hold_reminders
consent    opt_out, opt_in, carrier_refused, and the consent history (CONSENT_WORDING)
ending     completion and erasure: complete_finished, forget (FORGOTTEN)
rows       a patient's rows by id (get_patient, enrolment_of), the columns the rooms' SQL names
"""

from __future__ import annotations

from .clinician import hold_reminders, pause, resume, unenroll
from .consent import CONSENT_WORDING, carrier_refused, opt_in, opt_out
from .ending import FORGOTTEN, complete_finished, forget
from .enrolling import Person, Programme, change, create, drop_enrolment
from .rows import enrolment_of, get_patient
from .senders import Sender, find_sender
from .states import TRANSITIONS, By, Status, may, refusal

# What callers use, as when patients was one module: `from followup import patients; patients.pause(...)`.
__all__ = [
    "Status",
    "By",
    "TRANSITIONS",
    "may",
    "refusal",
    "Sender",
    "find_sender",
    "get_patient",
    "enrolment_of",
    "Programme",
    "Person",
    "create",
    "change",
    "drop_enrolment",
    "pause",
    "resume",
    "unenroll",
    "hold_reminders",
    "CONSENT_WORDING",
    "opt_out",
    "opt_in",
    "carrier_refused",
    "complete_finished",
    "FORGOTTEN",
    "forget",
]
