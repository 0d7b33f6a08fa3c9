"""Translators to and from Forem, Actiris, VDAB, ADG and the SPP IS."""
