"""The people side: the directory of users, groups and queues, form checks, notifications.

Imports only `orchlab.definition` and `orchlab.errors`.
"""
