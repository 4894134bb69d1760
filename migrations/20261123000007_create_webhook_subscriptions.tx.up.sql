CREATE TABLE webhook_subscriptions (
    id         bigserial PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event      text NOT NULL,
    url        text NOT NULL,
    secret     text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_subscriptions_user_id_event_url_key UNIQUE (user_id, event, url),
    CONSTRAINT webhook_subscriptions_url_check CHECK (url ~ '^https?://')
);
