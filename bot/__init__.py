"""Citizen-inquiry bot: answers citizens from five municipal press briefings."""
