"""What the database itself guarantees about the ledger (docs/billing.md):

- entries and transactions are never changed or deleted (a correction is a new transaction):
  a trigger refuses UPDATE and DELETE on them;
- every transaction balances: a constraint trigger, DEFERRABLE INITIALLY DEFERRED so the
  entries of one transaction may be inserted one by one, checks at commit that the entries of
  each transaction touched sum to zero, and that each transaction has at least two entries.

Both raise an integrity error (SQLSTATE class 23), so the whole database transaction, the
booking that caused it included, is rolled back."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION billing_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'billing: % rows are immutable; post a correcting transaction instead',
        TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER billing_entry_immutable
    BEFORE UPDATE OR DELETE ON billing_entry
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();

CREATE TRIGGER billing_ledgertransaction_immutable
    BEFORE UPDATE OR DELETE ON billing_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();

CREATE FUNCTION billing_entry_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total numeric;
BEGIN
    SELECT COALESCE(SUM(amount), 0) INTO total
        FROM billing_entry WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'billing: transaction % does not balance (its entries sum to %)',
            NEW.transaction_id, total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER billing_entry_balanced
    AFTER INSERT ON billing_entry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION billing_entry_check_balanced();

CREATE FUNCTION billing_transaction_check_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT COUNT(*) FROM billing_entry WHERE transaction_id = NEW.id) < 2 THEN
        RAISE EXCEPTION 'billing: transaction % has fewer than two entries', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER billing_transaction_has_entries
    AFTER INSERT ON billing_ledgertransaction
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION billing_transaction_check_entries();
"""

BACKWARD = """
DROP TRIGGER billing_transaction_has_entries ON billing_ledgertransaction;
DROP FUNCTION billing_transaction_check_entries();
DROP TRIGGER billing_entry_balanced ON billing_entry;
DROP FUNCTION billing_entry_check_balanced();
DROP TRIGGER billing_ledgertransaction_immutable ON billing_ledgertransaction;
DROP TRIGGER billing_entry_immutable ON billing_entry;
DROP FUNCTION billing_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_ledger")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
