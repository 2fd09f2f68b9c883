"""What only reads, one module per job; import from the module that holds the name.

``articles``  the live article a request names; the article a row points at, as its own type
``steps``     an article's steps that carry a check, and each as its widget shows it
``runs``      a diagnosis's newest run of each step; how many runs wait ahead in the queue
``viewers``   who may see what: the diagnoses and runs a viewer may open
``previews``  who may preview, the preview's signed token, its draft and its address
``panel``     the check panel an article shows a signed-in reader
``summary``   the verdict of a diagnosis, worded once for every place that shows it
"""
