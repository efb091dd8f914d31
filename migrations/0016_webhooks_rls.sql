-- Webhook endpoints are tenant data (ENABLE + FORCE, as in 0001).
ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE webhook_endpoints FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON webhook_endpoints
  USING (workspace_id = current_setting('app.workspace_id', true))
  WITH CHECK (workspace_id = current_setting('app.workspace_id', true));--> statement-breakpoint
-- Deliveries are a queue (as outbox in 0003): RLS confines the application role, not FORCEd, so
-- the delivery worker, connected as the owner, claims due rows across workspaces.
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON webhook_deliveries
  USING (workspace_id = current_setting('app.workspace_id', true))
  WITH CHECK (workspace_id = current_setting('app.workspace_id', true));--> statement-breakpoint
-- Cursors of cross-workspace log readers: RLS on with no policy, so the application role sees
-- nothing; only the owner (the fan-out worker, before it enters any workspace) reads and moves them.
ALTER TABLE event_consumers ENABLE ROW LEVEL SECURITY;
