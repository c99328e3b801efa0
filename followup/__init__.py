"""followup: exercise reminders, check-ins and escalation for patients sent home with a programme."""

__version__ = "0.1.0"
