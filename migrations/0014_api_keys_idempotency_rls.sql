-- API keys are tenant data, but a key is found by the hash of its secret before any workspace is
-- known (that is what authentication is for). Like the queue tables in 0003, RLS confines the
-- application role and is not FORCEd, so that one lookup runs as the owner; every other read and
-- write goes through the workspace transaction.
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON api_keys
  USING (workspace_id = current_setting('app.workspace_id', true))
  WITH CHECK (workspace_id = current_setting('app.workspace_id', true));--> statement-breakpoint
-- Stored idempotent responses are plain tenant data (ENABLE + FORCE, as in 0001).
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON idempotency_keys
  USING (workspace_id = current_setting('app.workspace_id', true))
  WITH CHECK (workspace_id = current_setting('app.workspace_id', true));
