"""Role expectations for the activities routes (see ``config/tests/route_matrix.py``)."""

ROUTES = []
