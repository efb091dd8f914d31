CREATE TABLE "promise_deadlines" (
	"workspace_id" text NOT NULL,
	"promise_id" text NOT NULL,
	"next_at" timestamp with time zone NOT NULL,
	CONSTRAINT "promise_deadlines_workspace_id_promise_id_pk" PRIMARY KEY("workspace_id","promise_id")
);
--> statement-breakpoint
CREATE TABLE "promise_events" (
	"workspace_id" text NOT NULL,
	"seq" bigserial NOT NULL,
	"txid" "xid8" DEFAULT pg_current_xact_id() NOT NULL,
	"promise_id" text NOT NULL,
	"type" text NOT NULL,
	"actor" text NOT NULL,
	"interaction_id" text,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	CONSTRAINT "promise_events_workspace_id_seq_pk" PRIMARY KEY("workspace_id","seq")
);
--> statement-breakpoint
CREATE TABLE "promise_suggestions" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"contact_id" text NOT NULL,
	"interaction_id" text NOT NULL,
	"description" text NOT NULL,
	"kind" text NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"due_text" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"promise_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "promise_suggestions_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "promises" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"contact_id" text NOT NULL,
	"promisor" text NOT NULL,
	"promisor_type" text NOT NULL,
	"description" text NOT NULL,
	"kind" text,
	"due_at" timestamp with time zone NOT NULL,
	"original_due_at" timestamp with time zone NOT NULL,
	"made_in_interaction_id" text,
	"channel_id" text,
	"requires_evidence" boolean DEFAULT false NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"kept_at" timestamp with time zone,
	"kept_by_interaction_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"renegotiations" integer DEFAULT 0 NOT NULL,
	"closed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "promises_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
ALTER TABLE "promise_suggestions" ADD CONSTRAINT "promise_suggestions_workspace_id_contact_id_contacts_workspace_id_id_fk" FOREIGN KEY ("workspace_id","contact_id") REFERENCES "public"."contacts"("workspace_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promises" ADD CONSTRAINT "promises_workspace_id_contact_id_contacts_workspace_id_id_fk" FOREIGN KEY ("workspace_id","contact_id") REFERENCES "public"."contacts"("workspace_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "promise_deadlines_next_idx" ON "promise_deadlines" USING btree ("next_at");--> statement-breakpoint
CREATE INDEX "promise_events_promise_idx" ON "promise_events" USING btree ("workspace_id","promise_id","seq");--> statement-breakpoint
CREATE INDEX "promise_events_feed_idx" ON "promise_events" USING btree ("workspace_id","txid","seq");--> statement-breakpoint
CREATE INDEX "promise_suggestions_status_idx" ON "promise_suggestions" USING btree ("workspace_id","status");--> statement-breakpoint
CREATE INDEX "promises_contact_idx" ON "promises" USING btree ("workspace_id","contact_id");--> statement-breakpoint
CREATE INDEX "promises_status_due_idx" ON "promises" USING btree ("workspace_id","status","due_at");