DROP TABLE webhook_delivery_attempts;

--bun:split

DROP TABLE webhook_deliveries;

--bun:split

ALTER TABLE webhook_subscriptions
    DROP CONSTRAINT webhook_subscriptions_url_length_check,
    DROP CONSTRAINT webhook_subscriptions_event_check,
    DROP COLUMN secret_sealed,
    ADD COLUMN secret text;
