-- The natural keys of imported interactions and promises are tenant data (ENABLE + FORCE, as in
-- 0001): the import worker reads and writes them only after entering the job's workspace.
ALTER TABLE import_keys ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE import_keys FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON import_keys
  USING (workspace_id = current_setting('app.workspace_id', true))
  WITH CHECK (workspace_id = current_setting('app.workspace_id', true));
