ALTER TABLE campaign_contacts ADD COLUMN label TEXT;
ALTER TABLE campaign_contacts ADD COLUMN answer TEXT;
ALTER TABLE campaign_calls ADD COLUMN key_presses TEXT;
ALTER TABLE campaign_calls ADD COLUMN answer TEXT;
ALTER TABLE campaign_calls ADD COLUMN machine_at BIGINT;
CREATE TABLE campaign_actions (
    id BIGSERIAL PRIMARY KEY,
    campaign_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    outcome TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    done_at BIGINT
);
CREATE UNIQUE INDEX campaign_actions_once ON campaign_actions(contact_id, kind);
CREATE INDEX campaign_actions_due ON campaign_actions(status, next_at)
