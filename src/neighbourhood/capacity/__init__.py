"""Demand and capacity: the workforce map of every partner, demand learned from the
refresh, and a discrete-event simulation of each neighbourhood's teams (SimPy)."""
