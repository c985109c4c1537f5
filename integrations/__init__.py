"""Built-in integrations: one package per manufacturer or protocol, loaded through the plugin door."""
