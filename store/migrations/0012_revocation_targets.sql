-- Several people in one revocation request (SPEC §4: up to 50, one
-- decision for all). The request's target_* columns keep its first
-- person, for a request read by an older apppass; revocation_targets is
-- the whole list, in the order the admin named them, and each item says
-- whose password it is and whether its owner has been told of its
-- removal (so a Retry or a resumed approval tells nobody twice).
CREATE TABLE revocation_targets (
    request_id   INTEGER NOT NULL REFERENCES revocation_requests (id),
    position     INTEGER NOT NULL,
    target_slack TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    target_name  TEXT NOT NULL,
    PRIMARY KEY (request_id, target_id)
);
CREATE INDEX revocation_targets_person ON revocation_targets (target_id);
INSERT INTO revocation_targets (request_id, position, target_slack, target_id, target_name)
    SELECT id, 0, target_slack, target_id, target_name FROM revocation_requests;
ALTER TABLE revocation_items ADD COLUMN target_id TEXT NOT NULL DEFAULT '';
UPDATE revocation_items SET target_id =
    (SELECT r.target_id FROM revocation_requests r WHERE r.id = revocation_items.request_id);
ALTER TABLE revocation_items ADD COLUMN notified INTEGER NOT NULL DEFAULT 0;
-- Removals before this version were told at their decision.
UPDATE revocation_items SET notified = 1 WHERE outcome = 'removed';
