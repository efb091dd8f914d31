CREATE TABLE "import_keys" (
	"workspace_id" text NOT NULL,
	"type" text NOT NULL,
	"key" text NOT NULL,
	"record_id" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "import_keys_workspace_id_type_key_pk" PRIMARY KEY("workspace_id","type","key")
);
--> statement-breakpoint
ALTER TABLE "import_jobs" ADD COLUMN "heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "import_rows" ADD COLUMN "key" text;--> statement-breakpoint
CREATE INDEX "import_rows_key_idx" ON "import_rows" USING btree ("workspace_id","job_id","key") WHERE key is not null;