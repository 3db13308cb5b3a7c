ALTER TABLE campaign_calls ADD COLUMN disposition TEXT;
ALTER TABLE campaign_calls ADD COLUMN notes TEXT
