-- Large feeds are indexed in batches by a queue worker (ingest/batches.py). A full feed deletes the
-- products it no longer lists, which needs every batch's ids: each completed batch records the ids
-- its lines mention, and the batch that completes the upload runs the deletion, once.
CREATE TABLE feed_uploads (
    id           bigserial PRIMARY KEY,
    bucket       text NOT NULL,
    feed_key     text NOT NULL,
    batches      integer NOT NULL CHECK (batches > 0),
    lines        integer NOT NULL CHECK (lines > 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);

-- One row per completed batch (keyed by its first line): a message delivered twice counts once.
CREATE TABLE feed_upload_batches (
    upload_id      bigint NOT NULL REFERENCES feed_uploads (id) ON DELETE CASCADE,
    first_line     integer NOT NULL,
    mentioned_ids  text[] NOT NULL,
    done_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (upload_id, first_line)
);
