-- The statements the shop's ORM code sends (SQLAlchemy's SQL, parameters as `?`), for
-- `backbone explain` in `make demo`.

-- shop/services/notifications.py: send_payment_reminders
SELECT orders.id, orders.customer_id, orders.created_at FROM orders
WHERE orders.status = 'PENDING' AND orders.created_at < ? AND orders.reminder_sent_at IS NULL;

-- shop/routers/admin.py: sales_summary
SELECT count(orders.id), coalesce(sum(orders.total_cents), 0) FROM orders
WHERE orders.status IN (?, ?) AND orders.created_at >= ?;

-- a customer's latest orders
SELECT orders.id, orders.status, orders.total_cents FROM orders
WHERE orders.customer_id = ? ORDER BY orders.created_at DESC LIMIT ?;
