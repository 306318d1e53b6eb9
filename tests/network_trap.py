"""Fail on any attempt to open a network connection or resolve a name, in this process."""

from __future__ import annotations

import socket
from contextlib import contextmanager

import pytest


class NetworkAttempt(AssertionError):
    pass


@contextmanager
def no_network():
    attempts: list[str] = []

    def refuse(kind):
        def _refuse(*args, **kwargs):
            attempts.append(f"{kind}{args[1:] if kind == 'connect' else args}")
            raise NetworkAttempt(f"network attempt: {kind} {args!r}")

        return _refuse

    mp = pytest.MonkeyPatch()
    mp.setattr(socket.socket, "connect", refuse("connect"))
    mp.setattr(socket.socket, "connect_ex", refuse("connect"))
    mp.setattr(socket, "create_connection", refuse("create_connection"))
    mp.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    try:
        yield attempts
    finally:
        mp.undo()
    assert attempts == [], f"the product tried to reach the network: {attempts}"
