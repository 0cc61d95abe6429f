-- Where each model version's artifacts live (a folder or an s3:// prefix), so every process can
-- load whichever version is active, and a rollback knows where to find the previous one.
ALTER TABLE models ADD COLUMN location text;
