"""Analytics: forecasts of consumption and production and their honest evaluation (ANA-01, ANA-10, PRC-06).

`forecast/` is the domain core and imports no Django; the app around it (models, services)
stores versioned models and forecasts and reads series through the readings store interface.
"""
