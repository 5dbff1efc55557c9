"""The operator console (Django admin): the parts every app's `admin.py` shares. See
`console.base`."""
