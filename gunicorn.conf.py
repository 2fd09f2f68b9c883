"""Settings every way of starting gunicorn shares: it reads ./gunicorn.conf.py by itself
(Dockerfile, docker-compose.yml, bench/stack.py all start it from the repository)."""

# The access log names a request by its path only (%(U)s): never the query string (%(q)s, or
# the request line %(r)s that carries it), where OAuth callbacks bring codes, states and HMACs
# and searches a merchant's order numbers; nor the referer (%(f)s), a whole URL with its query.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
