"""The MCP server at /mcp/: the help center's tools for AI support agents, over streamable HTTP.

``tools`` says what an agent may do (built on the official ``mcp`` SDK), ``bridge``
serves the SDK's ASGI app from Django's WSGI processes, ``views`` authenticates the
token and hands the request over.
"""
