"""Live MES monitoring of a line: control charts, capability and OEE from the MES store."""
