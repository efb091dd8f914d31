-- Row-level security: the second wall between tenants. The application connects as the owner
-- (which runs migrations) and, inside every transaction, switches to the non-owner role
-- rapport_app and names the workspace with set_config(..., true); the policies below then hide
-- every other workspace's rows even from a query that forgot its workspace filter.
DO $$
BEGIN
  CREATE ROLE rapport_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL; -- roles are cluster-wide: another database (or a parallel test run) made it first
END
$$;--> statement-breakpoint
GRANT rapport_app TO CURRENT_USER;--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO rapport_app;--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO rapport_app;--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO rapport_app;--> statement-breakpoint
ALTER TABLE workspaces ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE workspaces FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON workspaces
  USING (id = current_setting('app.workspace_id', true))
  WITH CHECK (id = current_setting('app.workspace_id', true));--> statement-breakpoint
ALTER TABLE contacts ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE contacts FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON contacts
  USING (workspace_id = current_setting('app.workspace_id', true))
  WITH CHECK (workspace_id = current_setting('app.workspace_id', true));--> statement-breakpoint
ALTER TABLE contact_emails ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE contact_emails FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON contact_emails
  USING (workspace_id = current_setting('app.workspace_id', true))
  WITH CHECK (workspace_id = current_setting('app.workspace_id', true));
