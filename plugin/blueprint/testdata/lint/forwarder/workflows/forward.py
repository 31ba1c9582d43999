# chaosops:forward-parameters v1
# A stand-in of blueprints/Python-Prometheus/workflows/forward.py: lint
# reads only the marker line.
