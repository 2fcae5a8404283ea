"""Prometheus metrics read from the store at scrape time, so values outlive the processes that wrote them."""
