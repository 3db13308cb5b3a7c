CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL DEFAULT 'paused',
    settings TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE campaign_contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    row_number BIGINT NOT NULL,
    phone TEXT NOT NULL,
    name TEXT,
    time_zone TEXT NOT NULL,
    language TEXT,
    fields TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    last_result TEXT,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX campaign_contacts_phone ON campaign_contacts(campaign_id, phone);
CREATE INDEX campaign_contacts_status ON campaign_contacts(campaign_id, status);
CREATE TABLE campaign_calls (
    id BIGINT PRIMARY KEY,
    campaign_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    attempt BIGINT NOT NULL,
    agent_id BIGINT,
    dialed_at BIGINT NOT NULL,
    answered_at BIGINT,
    bridged_at BIGINT,
    ended_at BIGINT,
    result TEXT
);
CREATE INDEX campaign_calls_campaign ON campaign_calls(campaign_id, dialed_at);
CREATE TABLE dnc_numbers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id BIGINT NOT NULL,
    phone TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX dnc_numbers_phone ON dnc_numbers(campaign_id, phone)
