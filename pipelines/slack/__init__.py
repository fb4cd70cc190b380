"""Live Slack workspaces: one partition and one schedule per workspace configured in hub.yaml."""
