-- The inbox claim commits the try (attempts + 1, next_attempt_at pushed out by the backoff) before
-- the try runs, and stamps claimed_at; the try's outcome clears it. A pending row found with
-- claimed_at still set had its last try die with its process or connection, which is how the
-- claim tells, once the tries are spent, that it gives up on a row that never finishes.
ALTER TABLE "inbound_inbox" ADD COLUMN "claimed_at" timestamp with time zone;
