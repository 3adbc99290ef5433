/* test_ledger.c: the watermark of src/ledger.c, in memory (the database side is covered
 * by tests/e2e/bot_faults.sh). */
#include "testhelp.h"

#include "ledger.h"

static int done(ledger *l, int64_t id)
{
    char err[256];
    return ledger_done(l, id, err, sizeof err);
}

TEST(in_order)
{
    char err[256];
    ledger *l = ledger_open(NULL, 666, err, sizeof err);
    CHECK(l != NULL);
    CHECK_INT(ledger_offset(l), 0);
    CHECK_INT(ledger_seen(l, 10), 0);
    CHECK_INT(ledger_seen(l, 10), 1); /* delivered again while in progress */
    CHECK_INT(ledger_offset(l), 10);
    CHECK_INT(done(l, 10), 0);
    CHECK_INT(ledger_offset(l), 11);
    CHECK_INT(ledger_seen(l, 10), 1); /* below the watermark */
    ledger_free(l);
}

TEST(out_of_order_and_gaps)
{
    char err[256];
    ledger *l = ledger_open(NULL, 1, err, sizeof err);
    /* ids rise but skip numbers, as Telegram's do */
    CHECK_INT(ledger_seen(l, 4294967301LL), 0);
    CHECK_INT(ledger_seen(l, 4294967303LL), 0);
    CHECK_INT(ledger_seen(l, 4294967306LL), 0);
    done(l, 4294967306LL);
    done(l, 4294967303LL);
    CHECK_INT(ledger_offset(l), 4294967301LL); /* the first is still in progress */
    CHECK_INT(ledger_seen(l, 4294967303LL), 1); /* handled, though above the watermark */
    CHECK_INT(ledger_seen(l, 4294967306LL), 1);
    done(l, 4294967301LL);
    CHECK_INT(ledger_offset(l), 4294967307LL);
    CHECK_INT(ledger_seen(l, 4294967310LL), 0);
    CHECK_INT(ledger_offset(l), 4294967310LL);
    done(l, 4294967310LL);
    CHECK_INT(ledger_offset(l), 4294967311LL);
    done(l, 5); /* never seen: changes nothing */
    CHECK_INT(ledger_offset(l), 4294967311LL);
    ledger_free(l);
}

TEST(many_in_flight)
{
    char err[256];
    ledger *l = ledger_open(NULL, 1, err, sizeof err);
    for (int64_t id = 1; id <= 1000; id++)
        CHECK_INT(ledger_seen(l, id), 0);
    for (int64_t id = 1000; id >= 2; id--)
        done(l, id);
    CHECK_INT(ledger_offset(l), 1);
    for (int64_t id = 2; id <= 1000; id += 97)
        CHECK_INT(ledger_seen(l, id), 1);
    done(l, 1);
    CHECK_INT(ledger_offset(l), 1001);
    ledger_free(l);
    ledger_free(NULL);
}

int main(void)
{
    RUN(in_order);
    RUN(out_of_order_and_gaps);
    RUN(many_in_flight);
    return th_finish();
}
