"""Key and mouse bindings, kept apart from the widgets that use them."""
