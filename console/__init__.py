"""The web console: server-rendered pages over the same services as the HTTP API.

Sessions (``sessions``), the usage rollup (``rollup``), the pages (``pages_*``) and the
sub-application that mounts them (``web``). The composition root hands it concrete services
(``services.ConsoleServices``); nothing here builds a service of its own.
"""
