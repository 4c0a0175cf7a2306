"""Role expectations for the funnel routes (see ``config/tests/route_matrix.py``)."""

ROUTES = []
