CREATE TABLE "import_jobs" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"type" text NOT NULL,
	"format" text NOT NULL,
	"upsert_on" text NOT NULL,
	"dry_run" boolean DEFAULT false NOT NULL,
	"idempotency_key" text,
	"actor" text NOT NULL,
	"status" text DEFAULT 'receiving' NOT NULL,
	"rows_read" integer DEFAULT 0 NOT NULL,
	"created" integer DEFAULT 0 NOT NULL,
	"updated" integer DEFAULT 0 NOT NULL,
	"unchanged" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "import_jobs_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "import_rows" (
	"workspace_id" text NOT NULL,
	"job_id" text NOT NULL,
	"line" integer NOT NULL,
	"data" jsonb,
	"status" text DEFAULT 'pending' NOT NULL,
	"errors" jsonb,
	CONSTRAINT "import_rows_workspace_id_job_id_line_pk" PRIMARY KEY("workspace_id","job_id","line")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "import_jobs_idempotency_key" ON "import_jobs" USING btree ("workspace_id","idempotency_key") WHERE idempotency_key is not null;--> statement-breakpoint
CREATE INDEX "import_jobs_runnable_idx" ON "import_jobs" USING btree ("created_at") WHERE status in ('queued', 'running');--> statement-breakpoint
CREATE INDEX "import_rows_pending_idx" ON "import_rows" USING btree ("workspace_id","job_id","line") WHERE status = 'pending';