"""Exercise programmes as data: one TOML file per programme, validated when loaded."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import BadInput, FollowupError
from .resources import data_dir


@dataclass(frozen=True)
class Exercise:
    key: str
    name: str
    name_es: str
    hold_s: int
    rest_s: int
    reps: int
    sets: int
    per_day: int
    up_to: bool = False

    def display_name(self, language: str) -> str:
        return self.name_es if language == "es" and self.name_es else self.name

    def dosage(self) -> str:
        """'hold 5 s, rest 5 s, up to 10 times a day' (the SMS templates word it per language)."""
        parts = [f"hold {self.hold_s} s"] + ([f"rest {self.rest_s} s"] if self.rest_s else [])
        parts += [f"{self.reps} reps"] if self.reps > 1 else []
        parts += [f"{self.sets} sets a day"] if self.sets > 1 else []
        parts += [f"{'up to ' if self.up_to else ''}{self.per_day} times a day"] if self.per_day > 1 else []
        return ", ".join(parts)


@dataclass(frozen=True)
class Program:
    key: str
    title: str
    title_es: str
    rules: str
    exercises: tuple[Exercise, ...]

    def as_json(self) -> dict:
        return {
            "key": self.key,
            "title": self.title,
            "rules": self.rules,
            "exercises": [
                {
                    k: getattr(e, k)
                    for k in ("key", "name", "hold_s", "rest_s", "reps", "sets", "per_day", "up_to")
                }
                for e in self.exercises
            ],
        }


_INT_FIELDS = {"hold_s": 0, "rest_s": 0, "reps": 1, "sets": 1, "per_day": 1}


def _exercise(raw: dict, where: str) -> Exercise:
    for required in ("key", "name"):
        if not isinstance(raw.get(required), str) or not raw[required].strip():
            raise FollowupError(f"{where}: '{required}' must be a non-empty string")
    values = {}
    for name, minimum in _INT_FIELDS.items():
        value = raw.get(name, minimum if name != "hold_s" else None)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise FollowupError(f"{where}: '{name}' must be a whole number ≥ {minimum}, got {value!r}")
        values[name] = value
    unknown = set(raw) - set(_INT_FIELDS) - {"key", "name", "name_es", "up_to"}
    if unknown:
        raise FollowupError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    return Exercise(
        key=raw["key"],
        name=raw["name"],
        name_es=raw.get("name_es", ""),
        up_to=bool(raw.get("up_to", False)),
        **values,
    )


def load_program(path: Path) -> Program:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FollowupError(f"programme {path.name}: {exc}") from exc
    key = raw.get("key")
    if key != path.stem:
        raise FollowupError(f"programme {path.name}: key {key!r} must match the file name")
    exercises = raw.get("exercises")
    if not isinstance(exercises, list) or not exercises:
        raise FollowupError(f"programme {path.name}: needs at least one [[exercises]] entry")
    parsed = tuple(_exercise(e, f"programme {path.name}, exercise {i + 1}") for i, e in enumerate(exercises))
    if len({e.key for e in parsed}) != len(parsed):
        raise FollowupError(f"programme {path.name}: exercise keys must be unique")
    return Program(
        key=key,
        title=raw.get("title", key),
        title_es=raw.get("title_es", ""),
        rules=raw.get("rules", key),
        exercises=parsed,
    )


@lru_cache(maxsize=1)
def all_programs() -> dict[str, Program]:
    return {p.key: p for p in map(load_program, sorted(data_dir("programs").glob("*.toml")))}


def get_program(key: str) -> Program:
    programs = all_programs()
    if key not in programs:
        raise BadInput(f"program: unknown programme {key!r} (known: {', '.join(sorted(programs))})")
    return programs[key]
