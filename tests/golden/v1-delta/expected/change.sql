-- The second state: one note in 25 edited, a few added, one removed.
UPDATE notes SET body = body || ' (edited)' WHERE id % 25 = 0;
INSERT INTO notes VALUES(3001, 'author 1', 'a new note'), (3002, 'author 2', 'another new note');
DELETE FROM notes WHERE id = 1500;
