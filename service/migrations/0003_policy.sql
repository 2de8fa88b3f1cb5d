-- Contract version 3 (several named policies): the policy each logged decision placed
-- the user under (its name; NULL when unassigned or when the document is not a set), the
-- shadow policy's, and whether the two differ (1 or 0 when both are sets, NULL
-- otherwise), so that the shadow report counts them without decoding records.
ALTER TABLE decisions ADD COLUMN policy TEXT;
ALTER TABLE decisions ADD COLUMN shadow_policy TEXT;
ALTER TABLE decisions ADD COLUMN shadow_policy_differs BIGINT;
