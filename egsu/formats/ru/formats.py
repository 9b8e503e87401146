# Kazakh and Russian pages: dd.mm.yyyy and the 24-hour clock, as documents in Kazakhstan write them.
DATE_FORMAT = "d.m.Y"
SHORT_DATE_FORMAT = "d.m.Y"
DATETIME_FORMAT = "d.m.Y H:i:s"
SHORT_DATETIME_FORMAT = "d.m.Y H:i"
TIME_FORMAT = "H:i"
MONTH_FORMAT = "m.Y"
