-- Delivery attempts are tenant data (ENABLE + FORCE, as in 0016 for endpoints): only the delivery
-- worker writes them, inside the delivery's workspace. Deleting a delivery (retention, or an
-- endpoint deleted) removes its attempts through the foreign key's cascade, which PostgreSQL
-- runs as the table owner without row security.
ALTER TABLE webhook_delivery_attempts ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE webhook_delivery_attempts FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON webhook_delivery_attempts
  USING (workspace_id = current_setting('app.workspace_id', true))
  WITH CHECK (workspace_id = current_setting('app.workspace_id', true));
