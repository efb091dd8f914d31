-- A contact's edit of a message they sent updates its interaction in place; edited_at is the
-- provider's time of the last edit applied, so a stale (out-of-order) or redelivered edit is
-- recognised and changes nothing. Null: never edited.
ALTER TABLE "interactions" ADD COLUMN "edited_at" timestamp with time zone;
