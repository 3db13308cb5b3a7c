-- Campaign calls by agent, newest first, for the agent history.
CREATE INDEX campaign_calls_agent ON campaign_calls(agent_id, id);
