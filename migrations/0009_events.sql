CREATE TABLE "events" (
	"workspace_id" text NOT NULL,
	"seq" bigserial NOT NULL,
	"txid" "xid8" DEFAULT pg_current_xact_id() NOT NULL,
	"id" text NOT NULL,
	"type" text NOT NULL,
	"subject_id" text NOT NULL,
	"data" jsonb NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	CONSTRAINT "events_workspace_id_seq_pk" PRIMARY KEY("workspace_id","seq")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "events_id_idx" ON "events" USING btree ("workspace_id","id");--> statement-breakpoint
CREATE INDEX "events_feed_idx" ON "events" USING btree ("workspace_id","txid","seq");--> statement-breakpoint
CREATE INDEX "events_global_idx" ON "events" USING btree ("txid","seq");