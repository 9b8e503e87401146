"""Technological schemes of production objects and their agreement (OGM-01..06), device metrology
(OGM-08, OGM-09, DIG-46), failed-device replacement (DIG-45, OGM-12) and obligated objects (OGM-07).

The domain core (graph, layout, diagram, decision_pdf, signing) is plain Python; models, services,
views and tasks are the Django edges.
"""
