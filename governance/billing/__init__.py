"""Billing in the company's currency, over the ledger's exact nano-USD.

``money`` (conversion, the one rounding rule, ``format_money``), ``rates`` (pinned rates,
forward only), ``periods`` (a UTC month), ``usage`` (the ledger's attempt rows as billable
cells), ``invoices`` and ``render`` (lines, totals, JSON/CSV/HTML), ``service`` (``Billing``:
invoices, closing a month, company totals), ``savings``, ``focus`` (the FOCUS 1.2 export),
``budget_currency`` (budgets set in another currency), ``tables``.
"""
