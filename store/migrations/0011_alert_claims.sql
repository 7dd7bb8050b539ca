-- Helpdesk alerts about the tenant rather than a person (a credential
-- policy refusing lifetimes): when each kind was last sent, so that the
-- helpdesk hears of it once a day however many people hit it.
CREATE TABLE IF NOT EXISTS alert_claims (
    alert_key TEXT PRIMARY KEY,
    at        INTEGER NOT NULL
);
