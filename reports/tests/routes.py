"""Role expectations for the reports routes (see ``config/tests/route_matrix.py``)."""

ROUTES = []
