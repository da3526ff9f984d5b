/*
 * The checkpoint store: the text format (version 2, and version 1 read
 * for upgrades), corruption versus unreadable files, entries that share
 * an inode, claims, and retention.
 */
#include "unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt.h"

struct fx {
    char dir[64];
};

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));

    snprintf(fx->dir, sizeof(fx->dir), "/tmp/lsh-ckpt.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    char       cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
    assert_int_equal(system(cmd), 0);
    free(fx);
    return 0;
}

/* Writes a checkpoint file from body lines, with a correct trailer. */
static void write_ckpt(struct fx *fx, const char *magic, const char *body,
                       int count)
{
    struct lsh_buf b = LSH_BUF_INIT;
    char           path[128];
    FILE          *f;

    lsh_buf_addf(&b, "%s\n%s", magic, body);
    lsh_buf_addf(&b, "end %d %08x\n", count, lsh_crc32(0, b.ptr, b.len));
    snprintf(path, sizeof(path), "%s/p.ckpt", fx->dir);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(b.ptr, 1, b.len, f), b.len);
    fclose(f);
    lsh_buf_release(&b);
}

static int open_ckpt(struct fx *fx, struct lsh_ckpt **ck, struct lsh_buf *err)
{
    return lsh_ckpt_open(ck, fx->dir, "p", err);
}

static void test_roundtrip(void **state)
{
    struct fx             *fx = *state;
    struct lsh_ckpt       *ck;
    struct lsh_ckpt_entry *e;
    struct lsh_ckpt_entry *twin;
    struct lsh_buf         err = LSH_BUF_INIT;
    int                    owner;

    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_OK);
    assert_int_equal(lsh_ckpt_count(ck), 0);
    e = lsh_ckpt_add(ck, 7, 42, 0, 10, 0xabc, "/var/log/a b.log", 5, &owner);
    lsh_ckpt_set_offset(ck, e, 100, 64, 0x1234);
    /* a new file that took the inode of one still waiting for acks */
    twin = lsh_ckpt_add(ck, 7, 42, 0, 3, 0xdef, "/var/log/a.log", 0, &owner);
    (void)twin;
    lsh_ckpt_add(ck, 7, 43, LSH_CKPT_GZ, 1024, 1, "/var/log/c.log", 9, &owner);
    /* the same inode and first bytes twice (a file truncated to empty and
       its old empty-headed content): legitimate, and loaded back */
    lsh_ckpt_add(ck, 7, 44, 0, 0, 0, "/var/log/d.log", 0, &owner);
    lsh_ckpt_add(ck, 7, 44, 0, 0, 0, "/var/log/d.log", 0, &owner);
    assert_int_equal(lsh_ckpt_save(ck), LSH_OK);
    assert_int_equal(lsh_ckpt_writes(ck), 1);
    assert_int_equal(lsh_ckpt_save(ck), LSH_OK); /* clean: no write */
    assert_int_equal(lsh_ckpt_writes(ck), 1);
    lsh_ckpt_close(ck);

    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_OK);
    assert_int_equal(lsh_ckpt_count(ck), 5);
    e = lsh_ckpt_first(ck, 7, 42);
    assert_non_null(e);
    twin = lsh_ckpt_next(ck, e);
    assert_non_null(twin);
    assert_null(lsh_ckpt_next(ck, twin));
    if (e->fp_hash != 0xabc) {
        struct lsh_ckpt_entry *x = e;

        e = twin;
        twin = x;
    }
    assert_int_equal(e->offset, 100);
    assert_int_equal(e->end_len, 64);
    assert_int_equal(e->end_hash, 0x1234);
    assert_string_equal(e->path, "/var/log/a b.log");
    assert_null(e->owner); /* loaded entries are unclaimed */
    assert_int_equal(twin->fp_len, 3);
    e = lsh_ckpt_first(ck, 7, 43);
    assert_non_null(e);
    assert_int_equal(e->flags, LSH_CKPT_GZ);
    lsh_ckpt_close(ck);
    lsh_buf_release(&err);
}

static void test_version1(void **state)
{
    struct fx             *fx = *state;
    struct lsh_ckpt       *ck;
    struct lsh_ckpt_entry *e;
    struct lsh_buf         err = LSH_BUF_INIT;
    char                   path[128];
    char                   text[512];
    FILE                  *f;
    size_t                 n;

    write_ckpt(fx, "logship-checkpoint 1",
               "65024 10003892 1024 dafa45507dae8ac7 8893 /var/log/app/a.log\n",
               1);
    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_OK);
    e = lsh_ckpt_first(ck, 65024, 10003892);
    assert_non_null(e);
    assert_int_equal(e->offset, 8893);
    assert_int_equal(e->fp_hash, 0xdafa45507dae8ac7ULL);
    assert_int_equal(e->end_len, 0);
    /* an upgrade writes it back in the new format, offsets kept */
    assert_int_equal(lsh_ckpt_save(ck), LSH_OK);
    lsh_ckpt_close(ck);
    snprintf(path, sizeof(path), "%s/p.ckpt", fx->dir);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    assert_non_null(strstr(text, "logship-checkpoint 2\n"));
    assert_non_null(strstr(text, " 8893 "));
    lsh_buf_release(&err);
}

static void expect_corrupt(struct fx *fx, const char *magic, const char *body,
                           int count, const char *why)
{
    struct lsh_ckpt *ck = NULL;
    struct lsh_buf   err = LSH_BUF_INIT;

    write_ckpt(fx, magic, body, count);
    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_EINVAL);
    assert_null(ck);
    if (strstr(lsh_buf_cstr(&err), why) == NULL) {
        fail_msg("want '%s' in '%s'", why, lsh_buf_cstr(&err));
    }
    assert_non_null(strstr(lsh_buf_cstr(&err), "corrupt checkpoint file"));
    lsh_buf_release(&err);
}

static void test_corrupt(void **state)
{
    struct fx  *fx = *state;
    const char *v2 = "logship-checkpoint 2";

    expect_corrupt(fx, "logship-checkpoint 9", "", 0, "not a logship");
    expect_corrupt(fx, v2, "1 2 0 3 000000000000000a 5 0\n", 1,
                   "line 2: malformed entry");
    /* negative numbers, signs, short hashes, unknown flags, bad escapes */
    expect_corrupt(fx, v2,
                   "-1 2 0 3 000000000000000a 5 0 0000000000000000 0 /a\n", 1,
                   "malformed entry");
    expect_corrupt(fx, v2, "1 2 0 3 00a 5 0 0000000000000000 0 /a\n", 1,
                   "malformed entry");
    expect_corrupt(fx, v2,
                   "1 2 4 3 000000000000000a 5 0 0000000000000000 0 /a\n", 1,
                   "malformed entry");
    expect_corrupt(fx, v2,
                   "1 2 0 3 000000000000000a 5 0 0000000000000000 0 /a%zz\n", 1,
                   "malformed entry");
    expect_corrupt(fx, v2,
                   "1 2 0 3 000000000000000a 5 65 0000000000000000 0 /a\n", 1,
                   "malformed entry"); /* end_len above 64 */
    expect_corrupt(fx, v2,
                   "1 2 0 3 000000000000000a 5 0 0000000000000000 0 rel\n", 1,
                   "malformed entry");
    expect_corrupt(fx, v2,
                   "1 2 0 3 000000000000000a 99999999999999999999 0 "
                   "0000000000000000 0 /a\n",
                   1, "malformed entry"); /* beyond 64 bits */
    expect_corrupt(fx, v2,
                   "1 2 0 3 000000000000000a 5 0 0000000000000000 0 /a\n", 2,
                   "entry count does not match");
    /* version 1 cannot hold two entries for one inode */
    expect_corrupt(fx, "logship-checkpoint 1",
                   "1 2 3 000000000000000a 5 /a\n1 2 3 000000000000000b 5 /b\n",
                   2, "the same file twice");
}

static void test_crc_and_truncation(void **state)
{
    struct fx       *fx = *state;
    struct lsh_ckpt *ck;
    struct lsh_buf   err = LSH_BUF_INIT;
    char             path[128];
    int              fd;

    snprintf(path, sizeof(path), "%s/p.ckpt", fx->dir);
    write_ckpt(fx, "logship-checkpoint 2",
               "1 2 0 3 000000000000000a 5 0 0000000000000000 0 /a\n", 1);
    fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "9", 1, 21), 1); /* the inode 2 becomes 9 */
    close(fd);
    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_EINVAL);
    assert_non_null(strstr(lsh_buf_cstr(&err), "CRC mismatch"));
    lsh_buf_reset(&err);
    assert_int_equal(truncate(path, 30), 0);
    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_EINVAL);
    assert_non_null(strstr(lsh_buf_cstr(&err), "truncated"));
    lsh_buf_release(&err);
}

static void test_unreadable_is_not_corrupt(void **state)
{
    struct fx       *fx = *state;
    struct lsh_ckpt *ck = NULL;
    struct lsh_buf   err = LSH_BUF_INIT;
    char             path[128];

    snprintf(path, sizeof(path), "%s/p.ckpt", fx->dir);
    assert_int_equal(mkdir(path, 0700), 0); /* read(2) gives EISDIR */
    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_ERR);
    assert_null(ck);
    assert_non_null(strstr(lsh_buf_cstr(&err), "cannot read checkpoint"));
    assert_null(strstr(lsh_buf_cstr(&err), "corrupt checkpoint file"));
    assert_int_equal(rmdir(path), 0);
    lsh_buf_release(&err);
}

static void test_claims_and_retention(void **state)
{
    struct lsh_ckpt        *ck = lsh_ckpt_new_memory();
    struct lsh_ckpt_entry  *a;
    struct lsh_ckpt_entry  *b;
    struct lsh_ckpt_entry **v;
    size_t                  n;
    int                     owner;
    int64_t                 now = lsh_ckpt_now();

    (void)state;
    a = lsh_ckpt_add(ck, 1, 1, 0, 0, 0, "/a", 0, &owner);
    b = lsh_ckpt_add(ck, 1, 2, 0, 0, 0, "/b", 0, &owner);
    lsh_ckpt_unclaim(ck, b);
    v = lsh_ckpt_unclaimed(ck, &n);
    assert_int_equal(n, 1);
    assert_ptr_equal(v[0], b);
    free(v);
    /* b not seen for an hour; a claimed but its seen time is old */
    b->seen = now - 3600;
    a->seen = now - 3600;
    assert_int_equal(lsh_ckpt_prune(ck, now, 7200), 0);
    assert_int_equal(a->seen, now); /* refreshed: older than retention/4 */
    assert_int_equal(lsh_ckpt_prune(ck, now, 3600), 1);
    assert_int_equal(lsh_ckpt_count(ck), 1);
    assert_null(lsh_ckpt_first(ck, 1, 2));
    /* a claimed entry is never pruned, however old */
    a->seen = now - 1000000;
    assert_int_equal(lsh_ckpt_prune(ck, now, 10), 0);
    /* unclaimed, then claimed again: it is the owner's once more */
    lsh_ckpt_unclaim(ck, a);
    assert_null(a->owner);
    lsh_ckpt_claim(ck, a, &owner);
    assert_ptr_equal(a->owner, &owner);
    lsh_ckpt_close(ck);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crc_and_truncation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_is_not_corrupt, setup,
                                        teardown),
        cmocka_unit_test(test_claims_and_retention),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
