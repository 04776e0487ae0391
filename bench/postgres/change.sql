-- A day of changes to the sample (bench/run-postgres), about :fraction of the rows: updates on
-- the most recent issues and comments, new issues with comments and history, a few scattered
-- deletes. Deterministic (setseed).
\set ON_ERROR_STOP on
SELECT setseed(0.43);
CREATE TEMP TABLE bounds AS SELECT max(id) AS issues, (SELECT max(id) FROM comments) AS comments FROM issues;
UPDATE issues SET status = 'resolved', updated_at = updated_at + interval '1 day',
                  description = description || ' (edited)'
  WHERE id > (SELECT issues * 0.9 FROM bounds) AND random() < :fraction * 4;
UPDATE comments SET body = body || ' (edited)'
  WHERE id > (SELECT comments * 0.9 FROM bounds) AND random() < :fraction * 3;
INSERT INTO issues (project_id, reporter_id, status, priority, title, description, created_at, updated_at)
  SELECT 1 + g % 40, 1 + g % 2000, 'open', 3, 'new issue ' || g, repeat('new text ', 60), now(), now()
  FROM generate_series(1, (SELECT (issues * :fraction / 2)::int FROM bounds)) g;
INSERT INTO comments (issue_id, author_id, body, created_at)
  SELECT (SELECT issues FROM bounds) + 1 + g / 3, 1 + g % 2000, 'a new comment ' || g, now()
  FROM generate_series(0, 3 * (SELECT (issues * :fraction / 2)::int FROM bounds) - 1) g;
DELETE FROM history WHERE id IN (SELECT 1 + floor(random() * (SELECT max(id) FROM history))::bigint
                                 FROM generate_series(1, 300));
INSERT INTO audit_log (at, user_id, action, detail)
  SELECT now(), 1 + g % 2000, 'edit', jsonb_build_object('n', g)
  FROM generate_series(1, (SELECT (issues * :fraction * 4)::int FROM bounds)) g;
