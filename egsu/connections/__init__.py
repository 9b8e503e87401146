"""Connecting a subject's system to the gateway (SBR-01..14, INT-16..21): the application of App.1-SB
Table 1, the operator's review, test access on the test stand, the testing act (Table 2) generated
from what the stand journalled, signed by both sides, and go-live."""
