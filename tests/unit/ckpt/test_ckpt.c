/*
 * The checkpoint store: the snapshot's text format (version 2, and
 * version 1 read for upgrades), corruption versus unreadable files,
 * entries that share an inode, claims, retention, and the journal on top
 * of the snapshot: replay, what a save costs, torn and corrupt records,
 * stale generations, compaction and failed appends.
 */
#include "unit.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
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

static void check_roundtrip(struct lsh_ckpt *ck);

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
    /* a compressed rotation read to its end: done, kept as known */
    e = lsh_ckpt_add(ck, 7, 45, LSH_CKPT_GZ, 8, 2, "/var/log/e.log", 0, &owner);
    lsh_ckpt_set_offset(ck, e, 77, 7, 0x77);
    lsh_ckpt_finish(ck, e);
    assert_null(e->owner);
    assert_int_equal(e->flags, LSH_CKPT_GZ | LSH_CKPT_DONE);
    assert_true(lsh_ckpt_pending(ck));
    assert_int_equal(lsh_ckpt_save(ck), LSH_OK);
    assert_false(lsh_ckpt_pending(ck));
    assert_int_equal(lsh_ckpt_stats(ck)->saves, 1);
    assert_int_equal(lsh_ckpt_stats(ck)->records, 6);
    assert_int_equal(lsh_ckpt_save(ck), LSH_OK); /* clean: no write */
    assert_int_equal(lsh_ckpt_stats(ck)->saves, 1);
    lsh_ckpt_close(ck); /* a crash: no snapshot, all in the journal */

    for (int round = 0; round < 2; round++) {
        assert_int_equal(open_ckpt(fx, &ck, &err), LSH_OK);
        /* first from the journal alone, then from a snapshot */
        assert_int_equal(lsh_ckpt_stats(ck)->replayed, round == 0 ? 6 : 0);
        check_roundtrip(ck);
        assert_int_equal(lsh_ckpt_compact(ck), LSH_OK);
        lsh_ckpt_close(ck);
    }
    lsh_buf_release(&err);
}

static void check_roundtrip(struct lsh_ckpt *ck)
{
    struct lsh_ckpt_entry *e;
    struct lsh_ckpt_entry *twin;

    assert_int_equal(lsh_ckpt_count(ck), 6);
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
    e = lsh_ckpt_first(ck, 7, 45);
    assert_non_null(e);
    assert_int_equal(e->flags, LSH_CKPT_GZ | LSH_CKPT_DONE);
    assert_int_equal(e->offset, 77);
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
    assert_non_null(strstr(text, "logship-checkpoint 2 1\n"));
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
    const char *v2 = "logship-checkpoint 2 0";

    expect_corrupt(fx, "logship-checkpoint 9", "", 0, "not a logship");
    expect_corrupt(fx, v2, "1 1 2 0 3 000000000000000a 5 0\n", 1,
                   "line 2: malformed entry");
    /* negative numbers, signs, short hashes, unknown flags, bad escapes */
    expect_corrupt(fx, v2,
                   "1 -1 2 0 3 000000000000000a 5 0 0000000000000000 0 /a\n", 1,
                   "malformed entry");
    expect_corrupt(fx, v2, "1 1 2 0 3 00a 5 0 0000000000000000 0 /a\n", 1,
                   "malformed entry");
    expect_corrupt(fx, v2,
                   "1 1 2 4 3 000000000000000a 5 0 0000000000000000 0 /a\n", 1,
                   "malformed entry");
    expect_corrupt(fx, v2,
                   "1 1 2 0 3 000000000000000a 5 0 0000000000000000 0 /a%zz\n",
                   1, "malformed entry");
    expect_corrupt(fx, v2,
                   "1 1 2 0 3 000000000000000a 5 65 0000000000000000 0 /a\n", 1,
                   "malformed entry"); /* end_len above 64 */
    expect_corrupt(fx, v2,
                   "1 1 2 0 3 000000000000000a 5 0 0000000000000000 0 rel\n", 1,
                   "malformed entry");
    expect_corrupt(fx, v2,
                   "1 1 2 0 3 000000000000000a 99999999999999999999 0 "
                   "0000000000000000 0 /a\n",
                   1, "malformed entry"); /* beyond 64 bits */
    expect_corrupt(fx, v2,
                   "1 1 2 0 3 000000000000000a 5 0 0000000000000000 0 /a\n", 2,
                   "entry count does not match");
    /* the layout before ids (no id column): one field short */
    expect_corrupt(fx, v2, "2 0 3 000000000000000a 5 0 0000000000000000 0 /a\n",
                   1, "malformed entry");
    /* two entries with one id */
    expect_corrupt(fx, v2,
                   "1 1 2 0 3 000000000000000a 5 0 0000000000000000 0 /a\n"
                   "1 1 3 0 3 000000000000000a 5 0 0000000000000000 0 /b\n",
                   2, "the same file twice");
    expect_corrupt(fx, "logship-checkpoint 2 x", "", 0, "not a logship");
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
    write_ckpt(fx, "logship-checkpoint 2 0",
               "1 1 2 0 3 000000000000000a 5 0 0000000000000000 0 /a\n", 1);
    fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "9", 1, 27), 1); /* the inode 2 becomes 9 */
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
    /* finished (done), then claimed again: no longer done */
    lsh_ckpt_finish(ck, a);
    assert_true(a->flags & LSH_CKPT_DONE);
    lsh_ckpt_claim(ck, a, &owner);
    assert_false(a->flags & LSH_CKPT_DONE);
    /* unclaimed, then claimed again: it is the owner's once more */
    lsh_ckpt_unclaim(ck, a);
    assert_null(a->owner);
    lsh_ckpt_claim(ck, a, &owner);
    assert_ptr_equal(a->owner, &owner);
    lsh_ckpt_close(ck);
}

/* --- the journal ------------------------------------------------------- */

static void path_of(struct fx *fx, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", fx->dir, name);
}

static long file_size(struct fx *fx, const char *name)
{
    char        path[128];
    struct stat st;

    path_of(fx, name, path, sizeof(path));
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Appends raw bytes to a file of the state directory. */
static void append_raw(struct fx *fx, const char *name, const char *text)
{
    char  path[128];
    FILE *f;

    path_of(fx, name, path, sizeof(path));
    f = fopen(path, "a");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    fclose(f);
}

/* Appends a journal record with its CRC (bad_crc: a wrong one). */
static void append_record(struct fx *fx, const char *rec, bool bad_crc)
{
    char line[512];

    snprintf(line, sizeof(line), "%s %08x\n", rec,
             lsh_crc32(0, rec, strlen(rec)) ^ (bad_crc ? 1u : 0u));
    append_raw(fx, "p.journal", line);
}

static void replace_file(struct fx *fx, const char *name, const char *text)
{
    char  path[128];
    FILE *f;

    path_of(fx, name, path, sizeof(path));
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    fclose(f);
}

/* A store with entries 1 (/a, offset 10) and 2 (/b, offset 20), saved. */
static struct lsh_ckpt *two_entries(struct fx *fx, int *owner)
{
    struct lsh_ckpt *ck;
    struct lsh_buf   err = LSH_BUF_INIT;

    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_OK);
    lsh_ckpt_add(ck, 1, 1, 0, 0, 0, "/a", 10, owner);
    lsh_ckpt_add(ck, 1, 2, 0, 0, 0, "/b", 20, owner);
    assert_int_equal(lsh_ckpt_save(ck), LSH_OK);
    lsh_buf_release(&err);
    return ck;
}

static uint64_t offset_of(struct lsh_ckpt *ck, uint64_t ino)
{
    struct lsh_ckpt_entry *e = lsh_ckpt_first(ck, 1, ino);

    assert_non_null(e);
    return e->offset;
}

static void test_journal_replay(void **state)
{
    struct fx       *fx = *state;
    struct lsh_ckpt *ck;
    struct lsh_buf   err = LSH_BUF_INIT;
    int              owner;

    ck = two_entries(fx, &owner);
    /* offsets advance: only "O" records, the entries are on disk */
    lsh_ckpt_set_offset(ck, lsh_ckpt_first(ck, 1, 1), 15, 5, 0xa5);
    /* a small file grows: its fingerprint with it ("F", not "E") */
    lsh_ckpt_set_fp(ck, lsh_ckpt_first(ck, 1, 1), 15, 0xf15);
    assert_int_equal(lsh_ckpt_save(ck), LSH_OK);
    lsh_ckpt_set_offset(ck, lsh_ckpt_first(ck, 1, 1), 17, 7, 0xa7);
    lsh_ckpt_set_path(ck, lsh_ckpt_first(ck, 1, 2), "/b.1");
    assert_int_equal(lsh_ckpt_save(ck), LSH_OK);
    lsh_ckpt_remove(ck, lsh_ckpt_first(ck, 1, 2));
    lsh_ckpt_add(ck, 1, 3, 0, 0, 0, "/c", 30, &owner);
    assert_int_equal(lsh_ckpt_save(ck), LSH_OK);
    assert_int_equal(lsh_ckpt_stats(ck)->saves, 4);
    lsh_ckpt_close(ck); /* a crash: nothing compacted */

    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_OK);
    /* 2 E, 1 F, 1 O + 1 E, 1 D + 1 E */
    assert_int_equal(lsh_ckpt_stats(ck)->replayed, 7);
    assert_false(lsh_ckpt_stats(ck)->torn_tail);
    assert_int_equal(lsh_ckpt_count(ck), 2);
    assert_int_equal(offset_of(ck, 1), 17);
    assert_int_equal(lsh_ckpt_first(ck, 1, 1)->end_len, 7);
    assert_int_equal(lsh_ckpt_first(ck, 1, 1)->end_hash, 0xa7);
    assert_int_equal(lsh_ckpt_first(ck, 1, 1)->fp_len, 15);
    assert_int_equal(lsh_ckpt_first(ck, 1, 1)->fp_hash, 0xf15);
    assert_null(lsh_ckpt_first(ck, 1, 2));
    assert_int_equal(offset_of(ck, 3), 30);
    /* a removal after the restart names an entry from the journal */
    lsh_ckpt_remove(ck, lsh_ckpt_first(ck, 1, 3));
    assert_int_equal(lsh_ckpt_save(ck), LSH_OK);
    lsh_ckpt_close(ck);
    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_OK);
    assert_int_equal(lsh_ckpt_count(ck), 1);
    lsh_ckpt_close(ck);
    lsh_buf_release(&err);
}

/* A save costs the entries that changed, not the number of entries. */
static void test_journal_cost(void **state)
{
    struct fx             *fx = *state;
    struct lsh_ckpt       *ck;
    struct lsh_buf         err = LSH_BUF_INIT;
    struct lsh_ckpt_entry *one = NULL;
    char                   path[64];
    int                    owner;
    uint64_t               before;
    int                    i;

    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_OK);
    for (i = 0; i < 10000; i++) {
        snprintf(path, sizeof(path), "/var/log/app/%05d.log", i);
        one = lsh_ckpt_add(ck, 1, (uint64_t)i + 1, 0, 1024, 7, path, 0, &owner);
    }
    assert_int_equal(lsh_ckpt_save(ck), LSH_OK);
    assert_int_equal(lsh_ckpt_compact(ck), LSH_OK);
    assert_true(file_size(fx, "p.ckpt") > 500000);
    before = lsh_ckpt_stats(ck)->bytes;
    for (i = 1; i <= 100; i++) {
        lsh_ckpt_set_offset(ck, one, (uint64_t)i * 100, 64, (uint64_t)i);
        assert_int_equal(lsh_ckpt_save(ck), LSH_OK);
    }
    /* 100 saves of one entry: one "O" record each, under 60 bytes */
    assert_int_equal(lsh_ckpt_stats(ck)->saves, 101);
    assert_true(lsh_ckpt_stats(ck)->bytes - before < 100 * 60);
    assert_int_equal(lsh_ckpt_stats(ck)->snapshots, 1);
    lsh_ckpt_close(ck);
    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_OK);
    assert_int_equal(lsh_ckpt_count(ck), 10000);
    assert_int_equal(lsh_ckpt_stats(ck)->replayed, 100);
    assert_int_equal(offset_of(ck, 10000), 10000);
    lsh_ckpt_close(ck);
    lsh_buf_release(&err);
}

static void test_journal_torn_tail(void **state)
{
    struct fx       *fx = *state;
    struct lsh_ckpt *ck;
    struct lsh_buf   err = LSH_BUF_INIT;
    long             whole;
    int              owner;

    ck = two_entries(fx, &owner);
    lsh_ckpt_close(ck);
    whole = file_size(fx, "p.journal");
    /* a crash in the middle of an append: no '\n' */
    append_raw(fx, "p.journal", "O 1 99 0 00000");
    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_OK);
    assert_true(lsh_ckpt_stats(ck)->torn_tail);
    assert_int_equal(offset_of(ck, 1), 10);
    assert_int_equal(file_size(fx, "p.journal"), whole); /* cut off */
    /* appends go on after the last whole record */
    lsh_ckpt_set_offset(ck, lsh_ckpt_first(ck, 1, 1), 11, 1, 1);
    assert_int_equal(lsh_ckpt_save(ck), LSH_OK);
    lsh_ckpt_close(ck);
    /* a whole line whose CRC fails, last: torn as well */
    append_record(fx, "O 1 99 0 0000000000000000", true);
    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_OK);
    assert_true(lsh_ckpt_stats(ck)->torn_tail);
    assert_int_equal(offset_of(ck, 1), 11);
    lsh_ckpt_close(ck);
    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_OK);
    assert_false(lsh_ckpt_stats(ck)->torn_tail);
    lsh_ckpt_close(ck);
    lsh_buf_release(&err);
}

static void expect_journal_corrupt(struct fx *fx, const char *why)
{
    struct lsh_ckpt *ck = NULL;
    struct lsh_buf   err = LSH_BUF_INIT;
    char             path[128];

    path_of(fx, "p.journal", path, sizeof(path));
    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_EINVAL);
    assert_null(ck);
    if (strstr(lsh_buf_cstr(&err), why) == NULL ||
        strstr(lsh_buf_cstr(&err), path) == NULL ||
        strstr(lsh_buf_cstr(&err), "corrupt checkpoint journal") == NULL) {
        fail_msg("want '%s' and the path in '%s'", why, lsh_buf_cstr(&err));
    }
    lsh_buf_release(&err);
}

static void test_journal_corrupt(void **state)
{
    struct fx       *fx = *state;
    struct lsh_ckpt *ck;
    int              owner;
    char             path[128];
    char             good[256];
    FILE            *f;
    size_t           n;

    ck = two_entries(fx, &owner);
    lsh_ckpt_set_offset(ck, lsh_ckpt_first(ck, 1, 1), 12, 0, 0);
    assert_int_equal(lsh_ckpt_save(ck), LSH_OK);
    lsh_ckpt_close(ck);
    path_of(fx, "p.journal", path, sizeof(path));
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(good, 1, sizeof(good) - 1, f);
    fclose(f);
    good[n] = '\0';

    /* a bad record followed by a good one: damage, not a torn tail */
    append_record(fx, "O 1 13 0 0000000000000000", true);
    append_record(fx, "O 1 14 0 0000000000000000", false);
    expect_journal_corrupt(fx, "line 5: CRC mismatch");
    /* records that pass their CRC but make no sense */
    replace_file(fx, "p.journal", good);
    append_record(fx, "O 9 13 0 0000000000000000", false);
    expect_journal_corrupt(fx, "an offset for an unknown entry");
    replace_file(fx, "p.journal", good);
    append_record(fx, "D 9", false);
    expect_journal_corrupt(fx, "the removal of an unknown entry");
    replace_file(fx, "p.journal", good);
    append_record(fx, "X 1", false);
    expect_journal_corrupt(fx, "malformed record");
    replace_file(fx, "p.journal", good);
    append_record(fx, "O 1 13 65 0000000000000000", false); /* end_len */
    expect_journal_corrupt(fx, "malformed record");
    replace_file(fx, "p.journal", good);
    append_record(fx, "F 1 13 0 0000000000000000 5", false); /* no fp hash */
    expect_journal_corrupt(fx, "malformed record");
    replace_file(fx, "p.journal", good);
    append_record(fx, "O 1 13 0 0000000000000000 5", false); /* extra */
    expect_journal_corrupt(fx, "malformed record");
    replace_file(fx, "p.journal", "something else\n");
    expect_journal_corrupt(fx, "not a logship journal");
    /* a journal newer than its snapshot (the snapshot was replaced) */
    replace_file(fx, "p.journal", "logship-journal 1 7\n");
    expect_journal_corrupt(fx, "newer than its checkpoint file");
}

/*
 * A crash between the new snapshot's rename and the journal's reset
 * leaves a journal of the previous generation: the snapshot holds what
 * it says, so it is ignored (and replaced).
 */
static void test_journal_stale_generation(void **state)
{
    struct fx       *fx = *state;
    struct lsh_ckpt *ck;
    struct lsh_buf   err = LSH_BUF_INIT;
    char             path[128];
    char             text[256];
    FILE            *f;
    size_t           n;
    int              owner;

    ck = two_entries(fx, &owner);
    lsh_ckpt_set_offset(ck, lsh_ckpt_first(ck, 1, 1), 40, 0, 0);
    assert_int_equal(lsh_ckpt_compact(ck), LSH_OK); /* generation 1 */
    lsh_ckpt_close(ck);
    replace_file(fx, "p.journal", "logship-journal 1 0\n");
    append_record(fx, "O 1 5 0 0000000000000000", false);
    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_OK);
    assert_int_equal(lsh_ckpt_stats(ck)->replayed, 0);
    assert_int_equal(offset_of(ck, 1), 40);
    lsh_ckpt_close(ck);
    path_of(fx, "p.journal", path, sizeof(path));
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    assert_string_equal(text, "logship-journal 1 1\n");
    lsh_buf_release(&err);
}

/* Past its bound the journal becomes a snapshot, and starts again. */
static void test_journal_compaction(void **state)
{
    struct fx             *fx = *state;
    struct lsh_ckpt       *ck;
    struct lsh_ckpt_entry *e;
    struct lsh_buf         err = LSH_BUF_INIT;
    int                    owner;
    uint64_t               i;

    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_OK);
    e = lsh_ckpt_add(ck, 1, 1, 0, 0, 0, "/a", 0, &owner);
    /* about 45 bytes an "O" record: 1 MiB is some 23,000 saves */
    for (i = 1; i <= 30000; i++) {
        lsh_ckpt_set_offset(ck, e, i * 1000000, 64, i);
        assert_int_equal(lsh_ckpt_save(ck), LSH_OK);
        assert_true(file_size(fx, "p.journal") <= 1024 * 1024 + 64);
    }
    assert_int_equal(lsh_ckpt_stats(ck)->snapshots, 1);
    assert_true(file_size(fx, "p.ckpt") > 0);
    lsh_ckpt_close(ck);
    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_OK);
    assert_true(lsh_ckpt_stats(ck)->replayed < 10000);
    assert_int_equal(offset_of(ck, 1), 30000ULL * 1000000);
    lsh_ckpt_close(ck);
    lsh_buf_release(&err);
}

/*
 * An append that fails halfway (the disk full, here a file size limit)
 * is cut off the journal; the next save writes a snapshot instead.
 */
static void test_journal_failed_append(void **state)
{
    struct fx       *fx = *state;
    struct lsh_ckpt *ck;
    struct lsh_buf   err = LSH_BUF_INIT;
    struct rlimit    old;
    struct rlimit    lim;
    long             size;
    int              owner;

    ck = two_entries(fx, &owner);
    size = file_size(fx, "p.journal");
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = (rlim_t)size + 10; /* room for part of a record */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    lsh_ckpt_set_offset(ck, lsh_ckpt_first(ck, 1, 1), 1000, 0, 0);
    lsh_ckpt_set_offset(ck, lsh_ckpt_first(ck, 1, 2), 2000, 0, 0);
    assert_int_equal(lsh_ckpt_save(ck), LSH_ERR);
    assert_int_equal(lsh_ckpt_stats(ck)->failures, 1);
    assert_true(lsh_ckpt_pending(ck));
    assert_int_equal(file_size(fx, "p.journal"), size); /* cut off */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    assert_int_equal(lsh_ckpt_save(ck), LSH_OK);
    assert_int_equal(lsh_ckpt_stats(ck)->snapshots, 1);
    assert_false(lsh_ckpt_pending(ck));
    lsh_ckpt_close(ck);
    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_OK);
    assert_int_equal(offset_of(ck, 1), 1000);
    assert_int_equal(offset_of(ck, 2), 2000);
    lsh_ckpt_close(ck);
    lsh_buf_release(&err);
}

/* An entry added and removed between two saves never reaches the disk. */
static void test_journal_added_and_removed(void **state)
{
    struct fx       *fx = *state;
    struct lsh_ckpt *ck;
    struct lsh_buf   err = LSH_BUF_INIT;
    int              owner;
    long             size;

    ck = two_entries(fx, &owner);
    size = file_size(fx, "p.journal");
    lsh_ckpt_remove(ck, lsh_ckpt_add(ck, 1, 5, 0, 0, 0, "/e", 0, &owner));
    assert_int_equal(lsh_ckpt_save(ck), LSH_OK);
    assert_int_equal(file_size(fx, "p.journal"), size);
    lsh_ckpt_close(ck);
    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_OK);
    assert_int_equal(lsh_ckpt_count(ck), 2);
    assert_int_equal(lsh_ckpt_stats(ck)->replayed, 2);
    lsh_ckpt_close(ck);
    lsh_buf_release(&err);
}

struct change {
    uint64_t ids[8];
    int      lines[8]; /* 1: a line, 0: removed */
    size_t   n;
};

static void on_change(void *arg, uint64_t id, const char *line, size_t len)
{
    struct change *c = arg;

    (void)len;
    c->ids[c->n] = id;
    c->lines[c->n++] = line != NULL;
}

/*
 * A second store (an exactly-once output's offsets topic): what it holds is
 * put in, it gets what changed, the held store writes nothing, the tag.  An
 * entry put from there and removed before any save leaves no removal in the
 * journal (it never had the entry: replaying one would be corrupt).
 */
static void test_second_store(void **state)
{
    struct fx             *fx = *state;
    struct lsh_ckpt       *ck;
    struct lsh_buf         err = LSH_BUF_INIT;
    struct change          c = {0};
    long                   size;
    struct lsh_ckpt_entry *e;
    int                    owner;

    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_OK);
    assert_int_equal(
        lsh_ckpt_put(ck, 7,
                     "7 1 5 0 3 0000000000000001 10 0 0000000000000000 "
                     "100 /k/a.log"),
        LSH_OK);
    assert_int_equal(
        lsh_ckpt_put(ck, 8,
                     "8 1 6 0 3 0000000000000002 20 0 0000000000000000 "
                     "100 /k/b.log"),
        LSH_OK);
    /* put again before a save: still one change for it, not two */
    assert_int_equal(
        lsh_ckpt_put(ck, 7,
                     "7 1 5 0 3 0000000000000001 10 0 0000000000000000 "
                     "100 /k/a.log"),
        LSH_OK);
    assert_int_equal(lsh_ckpt_put(ck, 9, NULL), LSH_OK); /* never here */
    assert_int_equal(lsh_ckpt_put(ck, 3, "4 1 6 0 0 0 0 0 0 0 /x"), LSH_EINVAL);
    assert_int_equal(lsh_ckpt_put(ck, 3, "garbage"), LSH_EINVAL);
    assert_true(lsh_ckpt_has_id(ck, 7) && lsh_ckpt_has_id(ck, 8));
    assert_int_equal(lsh_ckpt_count(ck), 2);
    lsh_ckpt_changes(ck, on_change, &c);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.ids[0], 9);
    assert_int_equal(c.lines[0], 0);
    assert_int_equal(c.lines[1] + c.lines[2], 2);
    /* held: nothing is written, and what changed is kept */
    lsh_ckpt_hold(ck, true);
    assert_int_equal(lsh_ckpt_save(ck), LSH_OK);
    assert_int_equal(lsh_ckpt_compact(ck), LSH_OK);
    assert_true(lsh_ckpt_pending(ck));
    size = file_size(fx, "p.journal");
    /* 8 goes before any save: the journal must not get its removal */
    assert_int_equal(lsh_ckpt_put(ck, 8, NULL), LSH_OK);
    lsh_ckpt_hold(ck, false);
    assert_int_equal(lsh_ckpt_save(ck), LSH_OK);
    assert_true(file_size(fx, "p.journal") > size);
    assert_int_equal(lsh_ckpt_set_tag(ck, "kafka-exactly-once x"), LSH_OK);
    /* 7, saved, goes now: its removal is journaled */
    assert_int_equal(
        lsh_ckpt_put(ck, 7,
                     "7 1 5 0 3 0000000000000001 30 0 0000000000000000 "
                     "100 /k/a.log"),
        LSH_OK);
    assert_int_equal(lsh_ckpt_save(ck), LSH_OK);
    lsh_ckpt_close(ck);
    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_OK);
    assert_int_equal(lsh_ckpt_count(ck), 1);
    assert_non_null(lsh_ckpt_first(ck, 1, 5));
    assert_int_equal(lsh_ckpt_first(ck, 1, 5)->offset, 30);
    assert_string_equal(lsh_ckpt_tag(ck), "kafka-exactly-once x");
    assert_int_equal(lsh_ckpt_put(ck, 7, NULL), LSH_OK);
    assert_int_equal(lsh_ckpt_save(ck), LSH_OK);
    assert_int_equal(lsh_ckpt_set_tag(ck, NULL), LSH_OK);
    lsh_ckpt_close(ck);
    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_OK);
    assert_int_equal(lsh_ckpt_count(ck), 0);
    assert_null(lsh_ckpt_tag(ck));
    /* held, a new entry is on disk at once, at the offset it starts at */
    lsh_ckpt_hold(ck, true);
    e = lsh_ckpt_add(ck, 2, 9, 0, 0, 0, "/k/new.log", 0, &owner);
    lsh_ckpt_set_offset(ck, e, 100, 0, 0); /* not committed: not on disk */
    lsh_ckpt_close(ck);
    assert_int_equal(open_ckpt(fx, &ck, &err), LSH_OK);
    assert_int_equal(lsh_ckpt_count(ck), 1);
    assert_non_null(lsh_ckpt_first(ck, 2, 9));
    assert_int_equal(lsh_ckpt_first(ck, 2, 9)->offset, 0);
    lsh_ckpt_close(ck);
    lsh_buf_release(&err);
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
        cmocka_unit_test_setup_teardown(test_journal_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_cost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_torn_tail, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_journal_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_stale_generation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_journal_compaction, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_journal_failed_append, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_journal_added_and_removed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_second_store, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
