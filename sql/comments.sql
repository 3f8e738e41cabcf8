------------------------------------------------------------------------------
-- Column comments (0.2.0, issue 12): what every column of every table and
-- view of seatmgr holds, its unit and what NULL means, so that \d+ and the
-- catalogs of BI tools and ORMs show it.  The Makefile appends this file
-- LAST to the install script and to the 0.1.0 -> 0.2.0 update, so both get
-- the same comments, written once (t/upgrade.pl compares them; test/pgtap/native.sql
-- fails for a column without one).  policies.notice_period and
-- runs.undoes_run_id keep the comments they got with their columns.
------------------------------------------------------------------------------

-- the model: tables an application writes

COMMENT ON COLUMN seatmgr.domains.domain_id IS 'Identity of the domain (an organization)';
COMMENT ON COLUMN seatmgr.domains.name IS 'The claimed e-mail domain, a DNS name such as acme.com, stored lower-case; unique';
COMMENT ON COLUMN seatmgr.domains.created_at IS 'When the row was inserted';

COMMENT ON COLUMN seatmgr.divisions.division_id IS 'Identity of the division (a billing account holding a subscription)';
COMMENT ON COLUMN seatmgr.divisions.domain_id IS 'The domain the division belongs to; never changes';
COMMENT ON COLUMN seatmgr.divisions.name IS 'Display name of the division';
COMMENT ON COLUMN seatmgr.divisions.product IS 'The product the subscription is for (default ''default''); a group granting divisions of several products is never swept (R7)';
COMMENT ON COLUMN seatmgr.divisions.paid IS 'Whether the division is paid: only paid divisions hold licenses; turning it off keeps existing licenses until they lose their sources (R4)';
COMMENT ON COLUMN seatmgr.divisions.seat_limit IS 'Most active licenses (seats) the division may hold, at least 0; NULL: unlimited (R6)';
COMMENT ON COLUMN seatmgr.divisions.seat_price IS 'Price of one seat for 30 days, in the currency of the subscription; NULL: unknown (costs are then NULL)';
COMMENT ON COLUMN seatmgr.divisions.on_full IS 'What a grant into a full division does: ''waitlist'' (the license waits for a seat) or ''error'' (SQLSTATE 53400)';
COMMENT ON COLUMN seatmgr.divisions.created_at IS 'When the row was inserted';

COMMENT ON COLUMN seatmgr.teams.team_id IS 'Identity of the team';
COMMENT ON COLUMN seatmgr.teams.domain_id IS 'The domain the team belongs to; never changes';
COMMENT ON COLUMN seatmgr.teams.division_id IS 'The division whose seats the team''s members get (R1); NULL: a free team, which gives no license';
COMMENT ON COLUMN seatmgr.teams.name IS 'Display name of the team';
COMMENT ON COLUMN seatmgr.teams.created_at IS 'When the row was inserted';

COMMENT ON COLUMN seatmgr.users.user_id IS 'Identity of the user';
COMMENT ON COLUMN seatmgr.users.domain_id IS 'The domain the user belongs to; never changes';
COMMENT ON COLUMN seatmgr.users.email IS 'E-mail address, unique regardless of case';
COMMENT ON COLUMN seatmgr.users.is_admin IS 'An administrator of the domain: never swept while the policy protects admins';
COMMENT ON COLUMN seatmgr.users.is_service_account IS 'A service account: never swept while the policy protects service accounts';
COMMENT ON COLUMN seatmgr.users.last_active_at IS 'Last recorded activity (seatmgr_touch), never moved backwards nor more than a minute ahead of the clock; NULL: never active';
COMMENT ON COLUMN seatmgr.users.external_id IS 'The user''s id in the application or identity provider (sent in webhooks); NULL: none';
COMMENT ON COLUMN seatmgr.users.created_at IS 'When the row was inserted';

COMMENT ON COLUMN seatmgr.team_members.team_id IS 'The team';
COMMENT ON COLUMN seatmgr.team_members.user_id IS 'The member, a user of the team''s domain';
COMMENT ON COLUMN seatmgr.team_members.added_at IS 'When the user joined the team (may be in the past for an import); the granted_at of a license it gives';
COMMENT ON COLUMN seatmgr.team_members.created_at IS 'When the row was inserted';

COMMENT ON COLUMN seatmgr.shares.share_id IS 'Identity of the share';
COMMENT ON COLUMN seatmgr.shares.object_type IS 'What is shared: project, project_template, portfolio, goal or dashboard';
COMMENT ON COLUMN seatmgr.shares.object_id IS 'The application''s id of the shared object';
COMMENT ON COLUMN seatmgr.shares.sharer_id IS 'The user who shares; gives a seat only when holding an active license (R2)';
COMMENT ON COLUMN seatmgr.shares.recipient_id IS 'The user shared with; a user of another domain gets nothing (R2)';
COMMENT ON COLUMN seatmgr.shares.division_id IS 'The division whose seat the share gives; NULL: the sharer''s earliest-granted active license (R2)';
COMMENT ON COLUMN seatmgr.shares.shared_at IS 'When the object was shared (may be in the past for an import)';
COMMENT ON COLUMN seatmgr.shares.created_at IS 'When the row was inserted';

COMMENT ON COLUMN seatmgr.groups.group_id IS 'Identity of the identity-provider group';
COMMENT ON COLUMN seatmgr.groups.domain_id IS 'The domain the group belongs to; never changes';
COMMENT ON COLUMN seatmgr.groups.name IS 'Display name of the group';
COMMENT ON COLUMN seatmgr.groups.created_at IS 'When the row was inserted';

COMMENT ON COLUMN seatmgr.group_members.group_id IS 'The group';
COMMENT ON COLUMN seatmgr.group_members.user_id IS 'The member, a user of the group''s domain';
COMMENT ON COLUMN seatmgr.group_members.added_at IS 'When the user joined the group (may be in the past for an import)';
COMMENT ON COLUMN seatmgr.group_members.created_at IS 'When the row was inserted';

COMMENT ON COLUMN seatmgr.group_grants.group_id IS 'The group whose members get a seat (R3)';
COMMENT ON COLUMN seatmgr.group_grants.division_id IS 'The division they get it in; an unpaid one gives nothing';
COMMENT ON COLUMN seatmgr.group_grants.created_at IS 'When the row was inserted';

COMMENT ON COLUMN seatmgr.exclusions.exclusion_id IS 'Identity of the exclusion';
COMMENT ON COLUMN seatmgr.exclusions.domain_id IS 'The domain of the excluded user or group';
COMMENT ON COLUMN seatmgr.exclusions.user_id IS 'The user automation never touches; NULL when group_id is set';
COMMENT ON COLUMN seatmgr.exclusions.group_id IS 'The group whose members automation never touches; NULL when user_id is set';
COMMENT ON COLUMN seatmgr.exclusions.reason IS 'Free text: why; NULL: none given';
COMMENT ON COLUMN seatmgr.exclusions.created_at IS 'When the row was inserted';

COMMENT ON COLUMN seatmgr.policies.division_id IS 'The division the policy manages (one policy per division)';
COMMENT ON COLUMN seatmgr.policies.enabled IS 'Whether scheduled sweeps run it; a disabled policy can still be run by hand (R11)';
COMMENT ON COLUMN seatmgr.policies.run_every IS 'Interval between scheduled runs (default 1 day)';
COMMENT ON COLUMN seatmgr.policies.grant_active_within IS 'R8: a run gives a seat to free users active within this interval; NULL: the run grants nothing';
COMMENT ON COLUMN seatmgr.policies.revoke_inactive_after IS 'R7: a run takes the seat of users inactive for longer than this interval; NULL: the run takes no seat';
COMMENT ON COLUMN seatmgr.policies.grant_scope IS 'R8: ''domain'' (any free user of the domain) or ''division'' (only users holding a deactivated or waitlisted license there)';
COMMENT ON COLUMN seatmgr.policies.protect_admins IS 'R7: admins (users.is_admin) keep their seat however idle';
COMMENT ON COLUMN seatmgr.policies.protect_service_accounts IS 'R7: service accounts keep their seat however idle';
COMMENT ON COLUMN seatmgr.policies.next_run_at IS 'Maintained (R11): when the next scheduled run is due; set to now() + run_every on enabling unless given; NULL while disabled';
COMMENT ON COLUMN seatmgr.policies.created_at IS 'When the row was inserted';

-- maintained by the extension

COMMENT ON COLUMN seatmgr.licenses.user_id IS 'The licensed user';
COMMENT ON COLUMN seatmgr.licenses.division_id IS 'The division of the license';
COMMENT ON COLUMN seatmgr.licenses.status IS 'active (holds a seat), deactivated (by a run or a release) or waitlisted (the division was full)';
COMMENT ON COLUMN seatmgr.licenses.granted_at IS 'When the license was last granted or reactivated: the time of the source that granted it, or of a reactivation or a seat from the waitlist';
COMMENT ON COLUMN seatmgr.licenses.deactivated_at IS 'When it was deactivated; NULL unless deactivated';
COMMENT ON COLUMN seatmgr.licenses.deactivated_by_run IS 'The run that deactivated it (R16 gives it back); NULL when not deactivated or deactivated by a released notice';
COMMENT ON COLUMN seatmgr.licenses.created_at IS 'When the row was inserted';

COMMENT ON COLUMN seatmgr.license_sources.user_id IS 'The user of the license';
COMMENT ON COLUMN seatmgr.license_sources.division_id IS 'The division of the license';
COMMENT ON COLUMN seatmgr.license_sources.kind IS 'Why the license exists: team, share, group, admin or auto (a run)';
COMMENT ON COLUMN seatmgr.license_sources.ref_id IS 'The team, share, group or run id of the source; NULL for admin';
COMMENT ON COLUMN seatmgr.license_sources.added_at IS 'When the source was added (the membership''s added_at or the share''s shared_at for an import)';
COMMENT ON COLUMN seatmgr.license_sources.created_at IS 'When the row was inserted';

COMMENT ON COLUMN seatmgr.seat_counts.division_id IS 'Internal: a division with a seat_limit';
COMMENT ON COLUMN seatmgr.seat_counts.active IS 'Internal: its active licenses, the row that serializes concurrent grants (R6)';

COMMENT ON COLUMN seatmgr.runs.run_id IS 'Identity of the run';
COMMENT ON COLUMN seatmgr.runs.division_id IS 'The division whose policy ran';
COMMENT ON COLUMN seatmgr.runs.trigger IS 'scheduled (seatmgr_sweep), manual (seatmgr_run) or undo (seatmgr_undo_run)';
COMMENT ON COLUMN seatmgr.runs.status IS 'in_progress, succeeded or failed (a failed run applied nothing)';
COMMENT ON COLUMN seatmgr.runs.started_at IS 'When the run started (clock time)';
COMMENT ON COLUMN seatmgr.runs.finished_at IS 'When it finished; NULL while in progress';
COMMENT ON COLUMN seatmgr.runs.users_added IS 'Licenses the run activated (granted, reactivated or given from the waitlist)';
COMMENT ON COLUMN seatmgr.runs.users_deactivated IS 'Licenses the run deactivated';
COMMENT ON COLUMN seatmgr.runs.error IS 'The error of a failed run; NULL otherwise';
COMMENT ON COLUMN seatmgr.runs.created_at IS 'When the row was inserted';
COMMENT ON COLUMN seatmgr.runs.users_warned IS 'Notices the run opened (R14)';

COMMENT ON COLUMN seatmgr.run_changes.run_id IS 'The run';
COMMENT ON COLUMN seatmgr.run_changes.user_id IS 'The user whose license it changed or skipped';
COMMENT ON COLUMN seatmgr.run_changes.action IS 'added, deactivated, warned or skipped';
COMMENT ON COLUMN seatmgr.run_changes.reason IS 'Why: e.g. inactive, active, waitlist, undo, no seat, excluded, admin, service account, multi-product group, changed since';
COMMENT ON COLUMN seatmgr.run_changes.last_active_at IS 'The user''s last_active_at when the run read it; NULL: never active';
COMMENT ON COLUMN seatmgr.run_changes.created_at IS 'When the row was inserted';

COMMENT ON COLUMN seatmgr.license_events.event_id IS 'Identity of the event, in the order they were recorded';
COMMENT ON COLUMN seatmgr.license_events.at IS 'When seatmgr recorded the change (transaction time); seats_at, cost and license_periods read it';
COMMENT ON COLUMN seatmgr.license_events.user_id IS 'The user of the license';
COMMENT ON COLUMN seatmgr.license_events.division_id IS 'The division of the license';
COMMENT ON COLUMN seatmgr.license_events.event IS 'granted, deactivated, reactivated, removed, waitlisted or warned';
COMMENT ON COLUMN seatmgr.license_events.source_kind IS 'The kind of source that caused it (team, share, group, admin, auto); NULL when no source did (a run, a release)';
COMMENT ON COLUMN seatmgr.license_events.source_ref IS 'The team, share, group or run id of that source; NULL for admin or without a source';
COMMENT ON COLUMN seatmgr.license_events.run_id IS 'The run that made the change; NULL for a change made by a trigger or a function';
COMMENT ON COLUMN seatmgr.license_events.actor IS 'The role that caused the change (the session user, not the function owner)';
COMMENT ON COLUMN seatmgr.license_events.created_at IS 'When the row was inserted';

COMMENT ON COLUMN seatmgr.notices.domain_id IS 'The domain of the user (leads the keys, SPEC section 6)';
COMMENT ON COLUMN seatmgr.notices.notice_id IS 'Identity of the notice (seatmgr_answer_notice takes it)';
COMMENT ON COLUMN seatmgr.notices.user_id IS 'The user warned';
COMMENT ON COLUMN seatmgr.notices.division_id IS 'The division of the license at stake';
COMMENT ON COLUMN seatmgr.notices.run_id IS 'The run that issued the notice';
COMMENT ON COLUMN seatmgr.notices.issued_at IS 'When the notice was issued (the run''s start)';
COMMENT ON COLUMN seatmgr.notices.deadline IS 'The first run at or after this time takes the seat unless the user is active again (issued_at + notice_period)';
COMMENT ON COLUMN seatmgr.notices.answer IS 'The user''s answer (R15): keep or release; NULL: not answered';
COMMENT ON COLUMN seatmgr.notices.answered_at IS 'When it was answered; NULL: not answered';
COMMENT ON COLUMN seatmgr.notices.closed_at IS 'When it was closed; NULL while open';
COMMENT ON COLUMN seatmgr.notices.outcome IS 'kept, released, active again, deactivated, license gone or withdrawn; NULL while open';
COMMENT ON COLUMN seatmgr.notices.created_at IS 'When the row was inserted';

COMMENT ON COLUMN seatmgr.access.role IS 'The role given access';
COMMENT ON COLUMN seatmgr.access.access IS 'The kind of access: app, reader or admin';
COMMENT ON COLUMN seatmgr.access.domain_id IS 'The domain it is scoped to (also for a division grant); NULL: every domain';
COMMENT ON COLUMN seatmgr.access.division_id IS 'The division it is scoped to; NULL: the whole domain, or every domain';
COMMENT ON COLUMN seatmgr.access.created_at IS 'When the row was inserted';

COMMENT ON COLUMN seatmgr.webhooks.webhook_id IS 'Identity of the webhook';
COMMENT ON COLUMN seatmgr.webhooks.domain_id IS 'The domain whose events it receives; NULL: every domain (managed by unscoped admins only)';
COMMENT ON COLUMN seatmgr.webhooks.url IS 'Where deliveries are POSTed: an http or https URL';
COMMENT ON COLUMN seatmgr.webhooks.secret IS 'The signing secret: whsec_ and the base64 of 24 to 64 bytes; generated when not given; readable only by roles that manage webhooks';
COMMENT ON COLUMN seatmgr.webhooks.event_types IS 'The event types sent, e.g. {license.granted,run.finished}; NULL: all';
COMMENT ON COLUMN seatmgr.webhooks.enabled IS 'Whether changes create deliveries and pending ones are sent';
COMMENT ON COLUMN seatmgr.webhooks.created_at IS 'When the row was inserted';

COMMENT ON COLUMN seatmgr.deliveries.domain_id IS 'The domain of the event (leads the keys, SPEC section 6)';
COMMENT ON COLUMN seatmgr.deliveries.delivery_id IS 'Identity of the delivery (seatmgr_redeliver takes it)';
COMMENT ON COLUMN seatmgr.deliveries.webhook_id IS 'The webhook it is sent to';
COMMENT ON COLUMN seatmgr.deliveries.message_id IS 'The webhook-id header: msg_ and a unique token, kept on redelivery';
COMMENT ON COLUMN seatmgr.deliveries.event_type IS 'license.granted, license.deactivated, license.reactivated, license.removed, license.waitlisted, license.warned or run.finished';
COMMENT ON COLUMN seatmgr.deliveries.payload IS 'The JSON body sent: {"type", "timestamp", "data"}';
COMMENT ON COLUMN seatmgr.deliveries.status IS 'pending, delivered (a 2xx answer) or failed (after the last attempt)';
COMMENT ON COLUMN seatmgr.deliveries.attempts IS 'Attempts made so far (reset by seatmgr_redeliver)';
COMMENT ON COLUMN seatmgr.deliveries.next_attempt_at IS 'When a pending delivery is sent next (exponential back-off)';
COMMENT ON COLUMN seatmgr.deliveries.last_attempt_at IS 'When it was last sent; NULL: never';
COMMENT ON COLUMN seatmgr.deliveries.last_status IS 'HTTP status of the last attempt; NULL: none, or no answer (timeout, refused connection)';
COMMENT ON COLUMN seatmgr.deliveries.last_error IS 'Why the last attempt failed; NULL: no failure';
COMMENT ON COLUMN seatmgr.deliveries.delivered_at IS 'When a 2xx answer came; NULL until delivered';
COMMENT ON COLUMN seatmgr.deliveries.created_at IS 'When the change that created it was made';

-- views

COMMENT ON COLUMN seatmgr.division_seats.division_id IS 'The division';
COMMENT ON COLUMN seatmgr.division_seats.domain IS 'Name of its domain';
COMMENT ON COLUMN seatmgr.division_seats.division IS 'Name of the division';
COMMENT ON COLUMN seatmgr.division_seats.product IS 'Its product';
COMMENT ON COLUMN seatmgr.division_seats.paid IS 'Whether it is paid';
COMMENT ON COLUMN seatmgr.division_seats.seat_limit IS 'Its seat limit; NULL: unlimited';
COMMENT ON COLUMN seatmgr.division_seats.active IS 'Active licenses (seats in use)';
COMMENT ON COLUMN seatmgr.division_seats.deactivated IS 'Deactivated licenses';
COMMENT ON COLUMN seatmgr.division_seats.waitlisted IS 'Licenses waiting for a seat';
COMMENT ON COLUMN seatmgr.division_seats.free_seats IS 'seat_limit - active, at least 0; NULL: unlimited';
COMMENT ON COLUMN seatmgr.division_seats.seat_price IS 'Price of one seat for 30 days; NULL: unknown';
COMMENT ON COLUMN seatmgr.division_seats.cost IS 'active * seat_price, per 30 days; NULL without a price';

COMMENT ON COLUMN seatmgr.run_history.run_id IS 'The run';
COMMENT ON COLUMN seatmgr.run_history.run_date IS 'When it started';
COMMENT ON COLUMN seatmgr.run_history.division_id IS 'Its division';
COMMENT ON COLUMN seatmgr.run_history.division IS 'Name of the division';
COMMENT ON COLUMN seatmgr.run_history.domain IS 'Name of the division''s domain';
COMMENT ON COLUMN seatmgr.run_history.trigger IS 'scheduled, manual or undo';
COMMENT ON COLUMN seatmgr.run_history.status IS 'in_progress, succeeded or failed';
COMMENT ON COLUMN seatmgr.run_history.users_added IS 'Licenses the run activated';
COMMENT ON COLUMN seatmgr.run_history.users_deactivated IS 'Licenses the run deactivated';
COMMENT ON COLUMN seatmgr.run_history.users_warned IS 'Notices the run opened (R14)';
COMMENT ON COLUMN seatmgr.run_history.duration IS 'finished_at - started_at; NULL while in progress';
COMMENT ON COLUMN seatmgr.run_history.error IS 'The error of a failed run; NULL otherwise';
COMMENT ON COLUMN seatmgr.run_history.seat_change IS 'users_added - users_deactivated';
COMMENT ON COLUMN seatmgr.run_history.monthly_cost_change IS 'seat_change * seat_price, per 30 days; NULL for a failed run or without a price';

COMMENT ON COLUMN seatmgr.next_runs.division_id IS 'The division of the policy';
COMMENT ON COLUMN seatmgr.next_runs.division IS 'Name of the division';
COMMENT ON COLUMN seatmgr.next_runs.domain IS 'Name of the division''s domain';
COMMENT ON COLUMN seatmgr.next_runs.enabled IS 'Whether scheduled sweeps run it';
COMMENT ON COLUMN seatmgr.next_runs.run_every IS 'Interval between scheduled runs';
COMMENT ON COLUMN seatmgr.next_runs.grant_active_within IS 'R8 threshold; NULL: grants nothing';
COMMENT ON COLUMN seatmgr.next_runs.revoke_inactive_after IS 'R7 threshold; NULL: takes no seat';
COMMENT ON COLUMN seatmgr.next_runs.estimated_next_run IS 'policies.next_run_at: the first sweep at or after it runs the policy; NULL while disabled';
COMMENT ON COLUMN seatmgr.next_runs.last_run_at IS 'When its latest run started; NULL: never run';

COMMENT ON COLUMN seatmgr.progress.pid IS 'Process id of the backend running it';
COMMENT ON COLUMN seatmgr.progress.datid IS 'OID of the database it runs in';
COMMENT ON COLUMN seatmgr.progress.datname IS 'Name of the database it runs in';
COMMENT ON COLUMN seatmgr.progress.run_id IS 'The run (seatmgr.runs); NULL for a preview';
COMMENT ON COLUMN seatmgr.progress.division_id IS 'Its division (an id of datname''s seatmgr.divisions)';
COMMENT ON COLUMN seatmgr.progress.division IS 'Name of the division; NULL for a row of another database';
COMMENT ON COLUMN seatmgr.progress.preview IS 'true for a preview (seatmgr_run(..., preview => true) or seatmgr_simulate), which writes nothing';
COMMENT ON COLUMN seatmgr.progress.trigger IS 'manual, scheduled or undo as in seatmgr.runs (a preview of seatmgr_run is manual), or simulate for seatmgr_simulate';
COMMENT ON COLUMN seatmgr.progress.phase IS 'What it is doing now: waiting for locks, computing changes, applying changes, giving seats back (an undo) or recording (README, Progress)';
COMMENT ON COLUMN seatmgr.progress.started_at IS 'When it started';
COMMENT ON COLUMN seatmgr.progress.licenses_total IS 'Active and waitlisted licences of the division, counted through its index when the change set''s statement starts (phase computing changes); NULL before, for an undo, and on 0.1.0''s schema';
COMMENT ON COLUMN seatmgr.progress.licenses_done IS 'Licences the change set''s statement has joined with their user and judged so far, counted by thousands while it runs; licenses_total once it has ended (at most licenses_total)';
COMMENT ON COLUMN seatmgr.progress.changes_total IS 'Rows of the change set (deactivations, warnings, additions, skips and notice closings); NULL until computed, and for a preview or an undo';
COMMENT ON COLUMN seatmgr.progress.changes_done IS 'Rows of the change set applied so far, chunk by chunk (phase applying changes)';
COMMENT ON COLUMN seatmgr.progress.users_deactivated IS 'Licenses deactivated so far';
COMMENT ON COLUMN seatmgr.progress.users_added IS 'Licenses activated so far (waitlist, grants; an undo''s licenses given back)';
COMMENT ON COLUMN seatmgr.progress.users_warned IS 'Notices opened so far (R14)';

COMMENT ON COLUMN seatmgr.billable_users.domain_id IS 'The domain';
COMMENT ON COLUMN seatmgr.billable_users.domain IS 'Name of the domain';
COMMENT ON COLUMN seatmgr.billable_users.user_id IS 'A user holding at least one active license in a paid division (counted once)';
COMMENT ON COLUMN seatmgr.billable_users.email IS 'The user''s e-mail address';
COMMENT ON COLUMN seatmgr.billable_users.licenses IS 'Active licenses the user holds in paid divisions';
COMMENT ON COLUMN seatmgr.billable_users.monthly_cost IS 'Sum of their seat_price, per 30 days; NULL when none has a price';

COMMENT ON COLUMN seatmgr.idle_seats.domain_id IS 'The user''s domain';
COMMENT ON COLUMN seatmgr.idle_seats.user_id IS 'The user holding the idle seat';
COMMENT ON COLUMN seatmgr.idle_seats.email IS 'The user''s e-mail address';
COMMENT ON COLUMN seatmgr.idle_seats.division_id IS 'The division of the seat';
COMMENT ON COLUMN seatmgr.idle_seats.division IS 'Name of the division';
COMMENT ON COLUMN seatmgr.idle_seats.last_activity IS 'The later of last_active_at and granted_at (R7)';
COMMENT ON COLUMN seatmgr.idle_seats.idle_for IS 'now() - last_activity';
COMMENT ON COLUMN seatmgr.idle_seats.idle_after IS 'The threshold: the policy''s revoke_inactive_after, or 90 days without one';
COMMENT ON COLUMN seatmgr.idle_seats.seat_price IS 'What the seat costs per 30 days; NULL: unknown';

COMMENT ON COLUMN seatmgr.license_periods.user_id IS 'The licensed user';
COMMENT ON COLUMN seatmgr.license_periods.division_id IS 'The division of the license';
COMMENT ON COLUMN seatmgr.license_periods.period IS 'A span the license held a seat, from license_events; open-ended (upper bound NULL) while active';
