"""Mouse bindings (tools): Qt-free objects that turn pointer input into edits of the models."""
