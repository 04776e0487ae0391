-- The sample issue tracker in PostgreSQL, for bench/run-postgres. psql variables:
--   :issues  number of issues (about 3.7 KB of table data each, indexes aside)
--   :media   number of 4 MiB attachments stored in the database
-- Rows load first, keys and indexes are added after. Deterministic (setseed, apart from the
-- media's random bytes); text is cut from a corpus of random words, so it compresses like
-- prose rather than like repeated strings.
\set ON_ERROR_STOP on
SELECT setseed(0.42);

CREATE TABLE app_settings (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE projects (id serial PRIMARY KEY, key text NOT NULL UNIQUE, name text NOT NULL,
                       created_at timestamptz NOT NULL);
CREATE TABLE users (id serial PRIMARY KEY, login text NOT NULL UNIQUE, email text NOT NULL,
                    display_name text NOT NULL, active boolean NOT NULL);
CREATE TABLE fields (id serial PRIMARY KEY, project_id integer NOT NULL,
                     name text NOT NULL, kind text NOT NULL, config jsonb NOT NULL);
CREATE TABLE issues (id bigserial PRIMARY KEY, project_id integer NOT NULL,
                     reporter_id integer NOT NULL, assignee_id integer,
                     status text NOT NULL, priority smallint NOT NULL, title text NOT NULL,
                     description text NOT NULL, created_at timestamptz NOT NULL,
                     updated_at timestamptz NOT NULL);
CREATE TABLE comments (id bigserial PRIMARY KEY, issue_id bigint NOT NULL,
                       author_id integer NOT NULL, body text NOT NULL,
                       created_at timestamptz NOT NULL);
CREATE TABLE history (id bigserial PRIMARY KEY, issue_id bigint NOT NULL,
                      field text NOT NULL, old_value text, new_value text,
                      changed_at timestamptz NOT NULL);
CREATE TABLE audit_log (id bigserial PRIMARY KEY, at timestamptz NOT NULL, user_id integer,
                        action text NOT NULL, detail jsonb NOT NULL);
CREATE TABLE media (id serial PRIMARY KEY, issue_id bigint, name text NOT NULL,
                    content bytea NOT NULL);

-- 2,000 slices of about 1,000 characters of random words; a row takes a piece of one of them
-- (chosen by its number) at a random place. Small slices stay inline (no TOAST to unpack).
CREATE TEMP TABLE corpus AS
SELECT n AS id, string_agg(w, ' ') AS text FROM (
  SELECT i / 170 AS n,
         (ARRAY['issue','report','customer','login','page','error','timeout','release','fix',
                'the','a','when','after','before','server','database','slow','screen','button',
                'export','import','user','admin','settings','cannot','should','works','again',
                'upgrade','version','ticket','field','layout','rule','mail','invoice','order'])
         [1 + floor(random() * 37)::int] AS w
  FROM generate_series(0, 2000 * 170 - 1) i) words GROUP BY n;
CREATE UNIQUE INDEX ON corpus (id);
-- piece(N) below stands for substr(c.text, 1 + floor(random() * (length(c.text) - N))::int, N).

INSERT INTO app_settings VALUES ('schema_version', '22.10.0017'), ('theme', 'light');
INSERT INTO projects (key, name, created_at)
  SELECT 'P' || g, 'Project ' || g, '2020-01-01'::timestamptz + g * interval '3 days'
  FROM generate_series(1, 40) g;
INSERT INTO users (login, email, display_name, active)
  SELECT 'user' || g, 'user' || g || '@example.com', 'User ' || g, random() > 0.1
  FROM generate_series(1, 2000) g;
INSERT INTO fields (project_id, name, kind, config)
  SELECT 1 + g % 40, 'field ' || g, (ARRAY['text','number','select'])[1 + g % 3],
         jsonb_build_object('required', g % 2 = 0, 'order', g)
  FROM generate_series(1, 400) g;
INSERT INTO issues (project_id, reporter_id, assignee_id, status, priority, title, description,
                    created_at, updated_at)
  SELECT 1 + (g % 40), 1 + (g % 2000), CASE WHEN g % 5 = 0 THEN NULL ELSE 1 + (g * 7) % 2000 END,
         (ARRAY['open','in progress','resolved','closed'])[1 + g % 4], 1 + g % 5,
         substr(c.text, 1 + floor(random() * (length(c.text) - 60))::int, 60),
         substr(c.text, 1 + floor(random() * (length(c.text) - 520))::int, 520),
         '2021-01-01'::timestamptz + g * interval '1 minute',
         '2021-01-01'::timestamptz + g * interval '1 minute' + interval '2 days'
  FROM generate_series(1, :issues) g JOIN corpus c ON c.id = g % 2000;
INSERT INTO comments (issue_id, author_id, body, created_at)
  SELECT 1 + (g / 3), 1 + (g * 13) % 2000,
         substr(c.text, 1 + floor(random() * (length(c.text) - 380))::int, 380),
         '2021-01-01'::timestamptz + g * interval '20 seconds'
  FROM generate_series(0, 3 * :issues - 1) g JOIN corpus c ON c.id = (g * 7) % 2000;
INSERT INTO history (issue_id, field, old_value, new_value, changed_at)
  SELECT 1 + (g / 5), (ARRAY['status','assignee','priority','title','due'])[1 + g % 5],
         substr(c.text, 1 + floor(random() * (length(c.text) - 40))::int, 40),
         substr(c.text, 1 + floor(random() * (length(c.text) - 40))::int, 40),
         '2021-01-01'::timestamptz + g * interval '12 seconds'
  FROM generate_series(0, 5 * :issues - 1) g JOIN corpus c ON c.id = (g * 11) % 2000;
INSERT INTO audit_log (at, user_id, action, detail)
  SELECT '2021-01-01'::timestamptz + g * interval '15 seconds', 1 + g % 2000,
         (ARRAY['view','edit','login','export'])[1 + g % 4],
         jsonb_build_object('ip', '10.0.' || (g % 250) || '.' || (g % 200),
           'note', substr(c.text, 1 + floor(random() * (length(c.text) - 120))::int, 120))
  FROM generate_series(1, 4 * :issues) g JOIN corpus c ON c.id = (g * 13) % 2000;
INSERT INTO media (issue_id, name, content)
  SELECT 1 + m * 97, 'attachment-' || m || '.bin',
         (SELECT decode(string_agg(replace(gen_random_uuid()::text, '-', ''), ''), 'hex')
          FROM generate_series(1, 262144) WHERE m IS NOT NULL)
  FROM generate_series(1, :media) m;
ALTER TABLE fields ADD FOREIGN KEY (project_id) REFERENCES projects;
ALTER TABLE issues ADD FOREIGN KEY (project_id) REFERENCES projects,
  ADD FOREIGN KEY (reporter_id) REFERENCES users, ADD FOREIGN KEY (assignee_id) REFERENCES users;
ALTER TABLE comments ADD FOREIGN KEY (issue_id) REFERENCES issues,
  ADD FOREIGN KEY (author_id) REFERENCES users;
ALTER TABLE history ADD FOREIGN KEY (issue_id) REFERENCES issues;
ALTER TABLE media ADD FOREIGN KEY (issue_id) REFERENCES issues;
CREATE INDEX issues_project ON issues (project_id, status);
CREATE INDEX comments_issue ON comments (issue_id);
CREATE INDEX history_issue ON history (issue_id);
CREATE INDEX audit_log_at ON audit_log (at);
VACUUM ANALYZE;
