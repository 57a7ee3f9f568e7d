"""Browser pages of incidents/, split by area: the incident list and page (incidents, actions,
reviews), alerts, alerting setup (config: silences, channels, escalation), the status page and
the response statistics."""
