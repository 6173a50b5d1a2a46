"""One module per network, each a subclass of ``base.Connector``, found through ``registry``."""
