"""A tiny event emitter for the Qt-free models (napari's habit: models emit, views listen)."""

from __future__ import annotations

from collections.abc import Callable


class Event:
    """One kind of event; listeners are called in connection order with keyword arguments."""

    def __init__(self, name: str):
        self.name = name
        self._listeners: list[Callable] = []
        self._blocked = 0

    def connect(self, callback: Callable) -> Callable:
        self._listeners.append(callback)
        return callback

    def disconnect(self, callback: Callable) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def emit(self, **kwargs) -> None:
        if self._blocked:
            return
        for listener in list(self._listeners):
            listener(**kwargs)

    def blocker(self):
        event = self

        class _Blocker:
            def __enter__(self):
                event._blocked += 1

            def __exit__(self, *exc):
                event._blocked -= 1

        return _Blocker()


class EventGroup:
    """Attribute access to named events: `model.events.frame.connect(...)`."""

    def __init__(self, *names: str):
        for name in names:
            setattr(self, name, Event(name))
