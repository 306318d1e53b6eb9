"""Pointer input as plain data, so tools (mouse bindings) are Qt-free and testable headless."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pointer:
    x: float  # image coordinates (pixels, x right, y down)
    y: float
    shift: bool = False
    ctrl: bool = False
    scale: float = 1.0  # screen pixels per image pixel: hit radii are in screen pixels

    def radius(self, screen_px: float) -> float:
        """`screen_px` screen pixels expressed in image pixels at the current zoom."""
        return screen_px / max(self.scale, 1e-6)


class Tool:
    """A mouse binding: the view forwards left-button input in image coordinates."""

    name = "tool"
    cursor = "arrow"

    def press(self, p: Pointer) -> None: ...

    def move(self, p: Pointer) -> None: ...

    def release(self, p: Pointer) -> None: ...

    def double_click(self, p: Pointer) -> None: ...

    def hover(self, p: Pointer) -> None: ...

    def cancel(self) -> None: ...
