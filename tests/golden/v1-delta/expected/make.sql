-- The first state: a settings table and about 320 KB of notes, enough for several chunks.
CREATE TABLE app_settings(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
INSERT INTO app_settings VALUES('schema_version','1.0.0');
CREATE TABLE notes(id INTEGER PRIMARY KEY, author TEXT NOT NULL, body TEXT NOT NULL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
INSERT INTO notes
SELECT i, 'author ' || (i % 37),
       printf('%08x %08x %08x %08x note %d: ', (i * 2654435761) % 4294967296,
              (i * 40503) % 4294967296, (i * 2246822519) % 4294967296,
              (i * 3266489917) % 4294967296, i) || substr('the quick brown fox jumps over the lazy dog ', 1 + i % 20)
FROM n;
