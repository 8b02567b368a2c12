"""A tiny name -> object registry, one instance per kind (spaces, samplers, losses, ...)."""

from __future__ import annotations

import difflib
from typing import Any, Callable, Generic, Iterable, Iterator, Sequence, TypeVar

from hnas.errors import HnasError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names used in configs and on the command line to objects."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T) -> T:
        if name in self._items:
            raise KeyError(f"{self.kind} {name!r} is already registered")
        self._items[name] = item
        return item

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of :meth:`add`."""

        def decorator(item: T) -> T:
            return self.add(name, item)

        return decorator

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "(none)"
            raise HnasError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def build(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the registered factory ``name`` with the given arguments."""
        factory = self.get(name)
        if not callable(factory):
            raise TypeError(f"{self.kind} {name!r} is not callable")
        return factory(*args, **kwargs)

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))


def unknown_option(given: Iterable[str], known: Sequence[str]) -> tuple[str, str] | None:
    """The first (sorted) of ``given`` not in ``known``, with what to say about it; ``None`` if all known.

    The text reads ``has no option 'x' (did you mean 'y'?); known: a, b`` and follows the
    name of what lacks the option in the caller's message.
    """
    for option in sorted(given):
        if option in known:
            continue
        close = difflib.get_close_matches(option, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return option, f"has no option {option!r}{hint}; known: {', '.join(known) or '(none)'}"
    return None
