"""Every keyboard shortcut in one table: the main window makes its actions from it, Help lists it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shortcut:
    action: str  # name of the main window's action
    keys: str  # Qt key sequence text
    description: str
    label: str = ""  # short text for menus and the toolbar (default: the description)

    @property
    def text(self) -> str:
        return self.label or self.description


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("open_file", "Ctrl+O", "Open a DICOM file or PNG/JPEG image", "Open"),
    Shortcut("open_folder", "Ctrl+Shift+O", "Open a folder in the study browser", "Open folder"),
    Shortcut("open_session", "Ctrl+L", "Load a session file", "Load session"),
    Shortcut(
        "save_session", "Ctrl+S", "Save the session (image, contours, descriptions, results)", "Save session"
    ),
    Shortcut("export", "Ctrl+E", "Export a synthetic DICOM study (image, SEG, SR) and PNG", "Export"),
    Shortcut("undo", "Ctrl+Z", "Undo the last edit", "Undo"),
    Shortcut("redo", "Ctrl+Shift+Z", "Redo", "Redo"),
    Shortcut("tool_navigate", "N", "Navigate tool: drag to pan", "Navigate"),
    Shortcut(
        "tool_contour",
        "C",
        "Contour tool: click to place points, click the first point or double-click to close",
        "Contour",
    ),
    Shortcut("tool_suggest", "M", "Suggest mask: click where the lesion should be", "Suggest mask"),
    Shortcut(
        "tool_segment", "S", "Segment tool: click a lesion, or drag a box around it, for a contour", "Segment"
    ),
    Shortcut(
        "toggle_snapping",
        "E",
        "Edge snapping on/off: dragged points snap to the nearest boundary",
        "Snap to edges",
    ),
    Shortcut(
        "toggle_livewire",
        "W",
        "Livewire on/off: the curve between neighbouring points follows the strongest edge",
        "Livewire",
    ),
    Shortcut(
        "propagate",
        "P",
        "Propagate the current contour through the cine loop (resumes from a corrected frame)",
        "Propagate",
    ),
    Shortcut("new_lesion", "Ctrl+N", "Start a new lesion on this frame", "New lesion"),
    Shortcut(
        "delete_points",
        "Delete",
        "Delete the selected points (or the lesion when all are selected)",
        "Delete points",
    ),
    Shortcut("select_all_points", "Ctrl+A", "Select every point of the current lesion", "Select all points"),
    Shortcut("generate", "Ctrl+G", "Generate tumor variants for the current lesion", "Generate"),
    Shortcut("cancel", "Esc", "Cancel the running generation, or stop the open contour", "Cancel"),
    Shortcut("next_frame", "Right", "Next frame", "Next frame"),
    Shortcut("previous_frame", "Left", "Previous frame", "Previous frame"),
    Shortcut("play", "Space", "Play or pause the cine loop", "Play/pause"),
    Shortcut("fit", "F", "Fit the image to the window", "Fit"),
    Shortcut("zoom_in", "Ctrl+=", "Zoom in", "Zoom in"),
    Shortcut("zoom_out", "Ctrl+-", "Zoom out", "Zoom out"),
    Shortcut("reset_window_level", "R", "Reset window/level to the full range", "Reset window/level"),
    Shortcut("compare_flicker", "T", "Flicker between the original and the chosen result", "Flicker compare"),
    Shortcut(
        "reader_study",
        "Ctrl+Shift+R",
        "Reader study: open a study folder made by `bus-engine reader-study make` and read it",
        "Reader study…",
    ),
    Shortcut("settings", "Ctrl+,", "Settings", "Settings…"),
    Shortcut("help", "F1", "This list of shortcuts", "Shortcuts…"),
    Shortcut("quit", "Ctrl+Q", "Quit", "Quit"),
)

# The reader-study window's keys (its own window, so R and S do not reach the main window's tools).
READER_SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("real", "R", "Reader study: answer Real", "Real"),
    Shortcut("synthetic", "S", "Reader study: answer Synthetic", "Synthetic"),
    *(
        Shortcut(f"confidence_{k}", str(k), f"Reader study: confidence {k} ({hint})", str(k))
        for k, hint in ((1, "a guess"), (2, "unsure"), (3, "fairly sure"), (4, "sure"), (5, "certain"))
    ),
    Shortcut("next", "Return", "Reader study: record the answer and show the next image", "Next"),
    Shortcut("pause", "Space", "Reader study: pause (hides the image, stops its clock) or resume", "Pause"),
    Shortcut("full_screen", "F11", "Reader study: full screen on/off", "Full screen"),
    Shortcut("close", "Ctrl+W", "Reader study: close; reopening resumes at the next image", "Close"),
)

# Mouse gestures, listed in Help beside the shortcuts.
MOUSE_GESTURES: tuple[tuple[str, str], ...] = (
    ("Wheel", "Zoom about the cursor"),
    ("Middle drag (any tool), left drag (Navigate)", "Pan"),
    ("Right drag", "Window/level: right-left changes the width, up-down the level"),
    ("Click (Contour)", "Place a point; click the first point or double-click to close the curve"),
    ("Drag a point (Contour)", "Move it; drag inside a box selection to move all selected points"),
    ("Ctrl+click on the curve (Contour)", "Insert a point there"),
    ("Shift+click a point (Contour)", "Remove it"),
    ("Drag a curvature handle (Contour)", "Sharpen (towards the point) or round (away) that corner"),
    ("Drag on empty space (Contour)", "Box-select points"),
    ("Click (Suggest mask)", "Place a contour generated from the chosen attributes"),
    ("Click (Segment)", "Segment the lesion under the click"),
    ("Drag a box (Segment)", "Segment the lesion inside the box"),
    ("Click / drag a point with Livewire on (W)", "The curve to the neighbouring points follows the edge"),
)


def by_action() -> dict[str, Shortcut]:
    return {s.action: s for s in SHORTCUTS}
