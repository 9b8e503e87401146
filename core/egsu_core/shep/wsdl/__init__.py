"""Our own WSDL and XSD of the SyncChannel v10 contract (App.5); loaded through egsu_core.shep.contract."""
