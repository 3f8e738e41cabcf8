-- seatmgr_sv: seatmgr speaks the session's lc_messages (po/sv.po).  Errors
-- of seven C files with lc_messages = 'sv_SE.UTF-8' show their Swedish
-- message, detail and hint; lc_messages = 'C' brings English back; in a
-- database whose LC_CTYPE is C the letters are still right.
-- Each error is caught by try() and shown as a row (its SQLSTATE, message,
-- detail, hint), so that the output does not depend on whether
-- PostgreSQL's own Swedish catalogue ("FEL", "TIPS") is installed; the
-- messages are translated when they are raised, as psql would show them.
CREATE EXTENSION seatmgr;
CREATE FUNCTION pg_temp.try(statement text)
RETURNS TABLE (code text, message text, detail text, hint text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RAISE EXCEPTION 'no error from %', statement;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN NEXT;
END
$$;

INSERT INTO seatmgr.domains (name) VALUES ('acme.com'), ('other.com');
INSERT INTO seatmgr.divisions (domain_id, name, seat_limit, on_full) VALUES (1, 'Enterprise', 1, 'error');
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'Team A');
INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES
  (1, 'sam@acme.com', '2025-01-10'), (1, 'jo@acme.com', now()), (2, 'max@other.com', now());
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (1, 1, '2024-06-01');
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after, notice_period)
VALUES (1, '90 days', '14 days');
-- R14: Sam is warned; R15: Sam keeps the seat, which closes the notice
SELECT action, reason FROM seatmgr_run(1);
SELECT seatmgr_answer_notice(1, 'keep');

\x on
SET lc_messages = 'sv_SE.UTF-8';
-- validate.c: a malformed e-mail address (section 5)
SELECT * FROM pg_temp.try($$INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'sam smith@acme.com')$$);
-- validate.c: a user of another domain, the nouns translated too
SELECT * FROM pg_temp.try($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 3)$$);
-- util.c: an unknown id
SELECT * FROM pg_temp.try($$SELECT seatmgr_grant_license(99, 1)$$);
-- util.c: a NULL argument
SELECT * FROM pg_temp.try($$SELECT seatmgr_undo_run(NULL)$$);
-- writer.c: R6, the seat limit is reached and on_full is 'error'
SELECT * FROM pg_temp.try($$SELECT seatmgr_grant_license(2, 1)$$);
-- functions.c: R15, a closed notice answered, and a bad answer
SELECT * FROM pg_temp.try($$SELECT seatmgr_answer_notice(1, 'release')$$);
SELECT * FROM pg_temp.try($$SELECT seatmgr_answer_notice(1, 'later')$$);
-- sweep.c: R16, an unknown run
SELECT * FROM pg_temp.try($$SELECT * FROM seatmgr_undo_run(42)$$);
-- money.c: a period that ends before it starts
SELECT * FROM pg_temp.try($$SELECT * FROM seatmgr_cost('2026-02-01', '2026-01-01')$$);
-- guard.c: dropping the extension while it holds licenses
SELECT * FROM pg_temp.try($$DROP EXTENSION seatmgr$$);

-- English again
SET lc_messages = 'C';
SELECT * FROM pg_temp.try($$SELECT * FROM seatmgr_undo_run(42)$$);
\x off
RESET lc_messages;

SET seatmgr.allow_drop_with_licenses = on;
DROP EXTENSION seatmgr;

-- A database whose LC_CTYPE is C: the letters still come in the database's
-- encoding (a preloaded library binds its catalogue to it in each backend)
SELECT current_database() AS regress_db \gset
CREATE DATABASE seatmgr_sv_c TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C';
\c seatmgr_sv_c
CREATE EXTENSION seatmgr;
SET lc_messages = 'sv_SE.UTF-8';
DO $$ BEGIN PERFORM seatmgr_answer_notice(1, 'later');
EXCEPTION WHEN OTHERS THEN PERFORM pg_catalog.set_config('seatmgr_sv.caught', SQLERRM, false); END $$;
SELECT current_setting('seatmgr_sv.caught') AS message;
RESET lc_messages;
\c :regress_db
DROP DATABASE seatmgr_sv_c;
