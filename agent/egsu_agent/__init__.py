"""egsu-agent: the subject's side of the EGSU oil and gas feed (Rules §114–115, App.1).

Reads metering devices (drop folder, Modbus TCP, OPC UA, SQL), turns samples into
the 2-hourly and daily records of App.2, signs them and delivers them through the
gateway on the App.1 schedule, with a durable outbox, retries and backfill. No Django.
"""

__version__ = "0.1.0"
