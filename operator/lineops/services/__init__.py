"""lineops.services"""
