-- The event log is tenant data (ENABLE + FORCE, as in 0001): the application role sees and writes
-- only its workspace's events.
ALTER TABLE events ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE events FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY tenant_isolation ON events
  USING (workspace_id = current_setting('app.workspace_id', true))
  WITH CHECK (workspace_id = current_setting('app.workspace_id', true));--> statement-breakpoint
-- Cross-workspace readers (webhook fan-out, the subscription listener) read as the owner, the
-- role that ran this migration, before entering any workspace: the owner may read every event,
-- never write one outside a workspace. Requests always run as rapport_app, which this leaves out.
CREATE POLICY owner_fanout_read ON events FOR SELECT TO CURRENT_USER USING (true);--> statement-breakpoint
-- Every transaction that appends events announces itself once at commit (NOTIFY is
-- transactional and folds identical payloads): listeners then read exactly that transaction's
-- events with `txid = <txid>` (see docs/event-log.md).
CREATE FUNCTION rapport_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('rapport_events', t.workspace_id || ':' || t.txid::text)
    FROM (SELECT DISTINCT workspace_id, txid FROM new_events) t;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER events_notify AFTER INSERT ON events REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION rapport_events_notify();
