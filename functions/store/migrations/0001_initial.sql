-- Products, their base embeddings per encoder version, fused vectors per model version, models.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE products (
    id                 text PRIMARY KEY,
    title              text NOT NULL,
    description        text NOT NULL DEFAULT '',
    category           text,
    price              numeric,
    in_stock           boolean NOT NULL DEFAULT true,
    attributes         jsonb NOT NULL DEFAULT '{}'::jsonb,
    image_key          text,
    -- sha256 of every field above: an unchanged record is skipped without a write.
    content_hash       text NOT NULL,
    -- sha256 of the text the encoder reads; the image fingerprint is the photo's sha256 (or ETag).
    text_hash          text NOT NULL,
    image_fingerprint  text,
    -- The feed file that last wrote the product: a full feed deletes what it no longer lists.
    feed               text,
    deleted            boolean NOT NULL DEFAULT false,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_image_key ON products (image_key) WHERE NOT deleted;
CREATE INDEX products_feed ON products (feed) WHERE NOT deleted;

-- Unfused encoder outputs: a new fusion model is rolled out by re-fusing these, never by
-- re-encoding photos. Dimensions vary with the encoder, so the column carries none.
CREATE TABLE base_embeddings (
    product_id       text NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    modality         text NOT NULL CHECK (modality IN ('text', 'image')),
    encoder_version  text NOT NULL,
    source_hash      text NOT NULL,
    embedding        vector NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, modality, encoder_version)
);

CREATE TABLE models (
    version       text PRIMARY KEY,
    manifest      jsonb NOT NULL,
    dim           integer NOT NULL,
    status        text NOT NULL CHECK (status IN ('staged', 'active', 'retired')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    activated_at  timestamptz
);
CREATE UNIQUE INDEX models_one_active ON models (status) WHERE status = 'active';

-- One row per product and model version. Each version gets its own partial HNSW index on
-- embedding::vector(dim), created when the version is registered (see store/models.py).
CREATE TABLE fused_vectors (
    product_id     text NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    model_version  text NOT NULL REFERENCES models (version) ON DELETE CASCADE,
    embedding      vector NOT NULL,
    PRIMARY KEY (product_id, model_version)
);
