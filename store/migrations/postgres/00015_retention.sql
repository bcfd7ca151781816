-- +goose Up
-- Retention prunes by age: old snapshots, the bodies of mail sent long ago,
-- expired sessions and sign-in links. These indexes let each batch find its
-- rows without a scan.
CREATE INDEX seller_snapshots_evaluated ON seller_snapshots (evaluated_at);
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX login_tokens_expires ON login_tokens (expires_at);
CREATE INDEX signin_requests_at ON signin_requests (at);

-- +goose Down
DROP INDEX signin_requests_at;
DROP INDEX login_tokens_expires;
DROP INDEX sessions_expires;
DROP INDEX outbox_sent;
DROP INDEX seller_snapshots_evaluated;
