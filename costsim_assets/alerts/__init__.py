"""Alert delivery to humans (Slack), at most once per alert and always recorded."""
