PRAGMA foreign_keys=ON;
CREATE TABLE app_settings(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
INSERT INTO app_settings VALUES('schema_version','1.0.0'),('théme','dark ☂');
CREATE TABLE projects(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, budget REAL, logo BLOB);
INSERT INTO projects(name,budget,logo) VALUES('alpha',-0.0,x''),('beta',1e308,x'00ff10'),('gamma "quoted"',NULL,NULL);
CREATE TABLE "issue items"(id INTEGER PRIMARY KEY, project INTEGER REFERENCES projects(id), "order" INTEGER, body TEXT);
INSERT INTO "issue items" VALUES(1,1,9223372036854775807,'first'),(2,2,-9223372036854775808,'line1
line2'),(3,3,0,'nul'||char(0)||'inside');
CREATE INDEX issue_items_project ON "issue items"(project);
CREATE TABLE audit(at TEXT, what TEXT);
CREATE TRIGGER issue_audit AFTER INSERT ON "issue items" BEGIN INSERT INTO audit VALUES('now', NEW.body); END;
CREATE TABLE app_log(line TEXT);
INSERT INTO app_log VALUES('not backed up');
