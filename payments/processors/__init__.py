"""The drivers behind processor connections, one interface (`base.Processor`): `simulated` and
`stripe`. `drivers.driver_for(connection)` gives a connection's driver."""
