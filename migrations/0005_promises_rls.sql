-- Promises are tenant data (ENABLE + FORCE, as in 0001); the deadline queue is claimed by the
-- scheduler across workspaces (ENABLE only, as the queues in 0003).
ALTER TABLE promises ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE promises FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON promises
  USING (workspace_id = current_setting('app.workspace_id', true))
  WITH CHECK (workspace_id = current_setting('app.workspace_id', true));--> statement-breakpoint
ALTER TABLE promise_events ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE promise_events FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON promise_events
  USING (workspace_id = current_setting('app.workspace_id', true))
  WITH CHECK (workspace_id = current_setting('app.workspace_id', true));--> statement-breakpoint
ALTER TABLE promise_suggestions ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE promise_suggestions FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON promise_suggestions
  USING (workspace_id = current_setting('app.workspace_id', true))
  WITH CHECK (workspace_id = current_setting('app.workspace_id', true));--> statement-breakpoint
ALTER TABLE promise_deadlines ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON promise_deadlines
  USING (workspace_id = current_setting('app.workspace_id', true))
  WITH CHECK (workspace_id = current_setting('app.workspace_id', true));--> statement-breakpoint
-- The sequence behind promise_events.seq is used by the application role on insert.
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO rapport_app;--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO rapport_app;
