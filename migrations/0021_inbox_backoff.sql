-- Inbox retries wait (exponential backoff, INBOX_BACKOFF_MS) instead of running at once: a
-- pending row is due at next_attempt_at, and the worker claims the due rows, earliest first,
-- through a partial index on it. Rows pending at the upgrade are due since their arrival, so
-- they keep their order.
DROP INDEX "inbound_inbox_pending_idx";--> statement-breakpoint
ALTER TABLE "inbound_inbox" ADD COLUMN "next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
UPDATE "inbound_inbox" SET "next_attempt_at" = "received_at" WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "inbound_inbox_due_idx" ON "inbound_inbox" USING btree ("next_attempt_at") WHERE status = 'pending';
