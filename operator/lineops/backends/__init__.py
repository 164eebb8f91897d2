"""lineops.backends"""
