"""lineops.handlers"""
