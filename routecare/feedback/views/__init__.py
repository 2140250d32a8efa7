"""Feedback and FAQ pages: public (no sign-in, in the person's language) and for staff."""
