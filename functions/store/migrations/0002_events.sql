-- Interactions from storefronts: views, carts, purchases, by a customer or a guest session.
CREATE TABLE events (
    id          bigserial PRIMARY KEY,
    -- The client's own id for the event: a retried POST is stored once.
    event_id    text UNIQUE,
    user_id     text,
    session_id  text,
    item_id     text NOT NULL REFERENCES products (id),
    type        text NOT NULL CHECK (type IN ('view', 'cart', 'purchase')),
    ts          timestamptz NOT NULL DEFAULT now(),
    received_at timestamptz NOT NULL DEFAULT now(),
    CHECK (user_id IS NOT NULL OR session_id IS NOT NULL)
);
CREATE INDEX events_user ON events (user_id, ts DESC) WHERE user_id IS NOT NULL;
CREATE INDEX events_session ON events (session_id, ts DESC) WHERE session_id IS NOT NULL;
CREATE INDEX events_item ON events (item_id, type);
CREATE INDEX events_ts ON events (ts);
