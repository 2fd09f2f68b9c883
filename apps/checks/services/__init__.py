"""What writes, one module per job; import from the module that holds the name.

``starting``      the diagnosis for typed inputs, a diagnosis run again, the runs of a start
``start_limits``  how many checks and fixes one person may start in a minute
``queueing``      the check task on the broker: time limits, expiry, lane
``running``       the task's body: claims, deadlines, a fix applied first, overdue runs ended
``fixes``         a fix asked for on a step, and the re-check after one applied elsewhere
``previews``      the draft a preview checks, and its sandbox account built again
``refusals``      a refused start, kept in the session for the page loaded without JavaScript
"""
