-- Live delivery reads the log (events.relay.ts) instead of LISTENing: a transaction that NOTIFYs
-- takes a database-wide lock at commit and holds it through its WAL flush, so this trigger made
-- every write transaction of every workspace (all of them append events) commit one at a time.
DROP TRIGGER IF EXISTS "events_notify" ON "events";--> statement-breakpoint
DROP FUNCTION IF EXISTS rapport_events_notify();
