"""The load test behind ``make load``: gunicorn and PostgreSQL on loopback, locust users doing
what service points, coordinators and people on the move do, one JSON summary.

``prepare`` builds the data and the plan the locust users read, ``locustfile`` is what they
do, ``run`` starts and stops the processes, ``summary`` turns locust's figures into the report.
"""
