#include "buf.h"
#include "testhelp.h"

TEST(add_and_format)
{
    struct buf b = BUF_INIT;
    CHECK_STR(buf_str(&b), "");
    buf_adds(&b, "abc");
    buf_addc(&b, '-');
    buf_addf(&b, "%d:%s", 42, "x");
    CHECK_STR(buf_str(&b), "abc-42:x");
    CHECK_INT(b.len, 8);
    buf_release(&b);
    CHECK(b.p == NULL);
}

TEST(grows_past_the_first_block)
{
    struct buf b = BUF_INIT;
    for (int i = 0; i < 1000; i++)
        buf_addf(&b, "%04d", i);
    CHECK_INT(b.len, 4000);
    CHECK(!memcmp(b.p + 3996, "0999", 4));
    CHECK(b.p[b.len] == '\0');
    buf_release(&b);
}

TEST(long_format_fits_after_regrow)
{
    struct buf b = BUF_INIT;
    char big[300];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    buf_adds(&b, "x");
    buf_addf(&b, "%s", big);
    CHECK_INT(b.len, 300);
    CHECK(b.p[299] == 'y' && b.p[300] == '\0');
    buf_release(&b);
}

TEST(detach_truncate_reset)
{
    struct buf b = BUF_INIT;
    size_t len;
    buf_add(&b, "a\0b", 3);
    CHECK_INT(b.len, 3);
    buf_truncate(&b, 1);
    CHECK_STR(buf_str(&b), "a");
    char *p = buf_detach(&b, &len);
    CHECK_STR(p, "a");
    CHECK_INT(len, 1);
    CHECK(b.p == NULL && b.len == 0);
    free(p);
    p = buf_detach(&b, NULL); /* empty buffer still gives a string */
    CHECK_STR(p, "");
    free(p);
    buf_adds(&b, "zz");
    buf_reset(&b);
    CHECK_STR(buf_str(&b), "");
    buf_release(&b);
}

TEST(wipe_empties_and_allows_reuse)
{
    struct buf b = BUF_INIT;
    buf_wipe(&b); /* nothing to wipe */
    buf_adds(&b, "password=SECRET");
    buf_wipe(&b);
    CHECK(b.p == NULL && b.len == 0 && b.cap == 0);
    buf_adds(&b, "again");
    CHECK_STR(buf_str(&b), "again");
    buf_wipe(&b);
}

int main(void)
{
    RUN(add_and_format);
    RUN(grows_past_the_first_block);
    RUN(long_format_fits_after_regrow);
    RUN(detach_truncate_reset);
    RUN(wipe_empties_and_allows_reuse);
    return th_finish();
}
