"""Role expectations for the crm routes (see ``config/tests/route_matrix.py``)."""

ROUTES = []
