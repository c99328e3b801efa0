"""A patient's rows by id, and the tables' columns the rooms' statements name."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from ..errors import NotFound
from ..models import Clinic, Enrolment, Patient, table_of

_P, _C, _E = (table_of(t).c for t in (Patient, Clinic, Enrolment))


def get_patient(session: Session, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"patient: no patient with id {patient_id}")
    return patient


def enrolment_of(session: Session, patient_id: int) -> Enrolment:
    enrolment: Enrolment = session.execute(
        select(Enrolment).where(col(Enrolment.patient_id) == patient_id)
    ).scalar_one()
    return enrolment
