"""The extractive answerer's parts: reading numbered sources out of a request (``sources``),
cutting them into quotable units (``units``), and choosing the units that answer the question
with a confidence (``selection``, on the signals of ``signals``).
"""
