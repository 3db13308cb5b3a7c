CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    profile TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'offline',
    status_reason TEXT,
    status_since BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE departments (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE queues (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    settings TEXT NOT NULL
);
CREATE TABLE scripts (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    definition TEXT NOT NULL
);
CREATE TABLE widgets (
    id BIGSERIAL PRIMARY KEY,
    widget_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    queue_id BIGINT NOT NULL REFERENCES queues(id),
    settings TEXT NOT NULL
);
CREATE TABLE callbacks (
    id BIGSERIAL PRIMARY KEY,
    widget_id BIGINT NOT NULL REFERENCES widgets(id),
    queue_id BIGINT NOT NULL REFERENCES queues(id),
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    topic TEXT NOT NULL,
    page_url TEXT NOT NULL,
    custom_fields TEXT NOT NULL,
    preferred_at BIGINT,
    consent BIGINT NOT NULL,
    status TEXT NOT NULL,
    status_token TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    due_at BIGINT NOT NULL,
    idempotency_key TEXT,
    client_ip TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    first_dial_at BIGINT,
    finished_at BIGINT
);
CREATE UNIQUE INDEX callbacks_idempotency ON callbacks(widget_id, idempotency_key);
CREATE INDEX callbacks_open ON callbacks(status);
CREATE INDEX callbacks_phone ON callbacks(phone);
CREATE INDEX callbacks_created ON callbacks(created_at);
CREATE TABLE interactions (
    id BIGINT PRIMARY KEY,
    callback_id BIGINT NOT NULL REFERENCES callbacks(id),
    queue_id BIGINT NOT NULL,
    agent_id BIGINT,
    attempt BIGINT NOT NULL DEFAULT 0,
    queued_at BIGINT NOT NULL,
    reserved_at BIGINT,
    agent_connected_at BIGINT,
    dialed_at BIGINT,
    answered_at BIGINT,
    bridged_at BIGINT,
    ended_at BIGINT,
    outcome TEXT,
    disposition TEXT,
    notes TEXT,
    answers TEXT
);
CREATE INDEX interactions_callback ON interactions(callback_id);
CREATE INDEX interactions_agent ON interactions(agent_id);
CREATE TABLE events (
    seq BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    interaction_id BIGINT,
    callback_id BIGINT,
    agent_id BIGINT,
    data TEXT NOT NULL
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
