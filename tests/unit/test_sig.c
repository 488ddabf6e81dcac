/*
 * Signed app images: signing (ota_img_sign) and the app-side verification (ota_img_verify with
 * sig_check) round trip for RSA-PSS V2, ECDSA P-256 V2 and V1 ECDSA, with keys made here; a
 * foreign key and a flipped bit are refused. With ../shared: the real signed vectors' blocks
 * verify, and esptool's espsecure agrees both ways (otakit-signed images pass its
 * verify_signature, espsecure-signed images pass otakit's verifier).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ota/ota_img.h"
#include "ota/ota_img_build.h"
#include "ota/ota_img_sign.h"
#include "ota/ota_memflash.h"
#include "ota/ota_posix.h"
#include "ota/ota_sig.h"
#include "test_keys.h"
#include "test_util.h"

#define FLASH_SIZE (4u * 1024 * 1024)
#define RUNNING 0x10000u
#define NEW 0x110000u
#define PART 0x100000u

static char dir[64];
static char key_rsa[128], key_rsa2[128], key_ec[128], key_ec2[128];
static char log_text[8192];

static void collect(void *ctx, char level, const char *tag, const char *msg)
{
    (void)ctx;
    size_t n = strlen(log_text);
    snprintf(log_text + n, sizeof(log_text) - n, "%c %s: %s\n", level, tag, msg);
}

static void collect_img(void *ctx, char level, const char *msg)
{
    collect(ctx, level, "esp_image", msg);
}

static const ota_log_t sink = {collect, NULL};

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/otakit-sig-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(key_rsa, sizeof(key_rsa), "%s/rsa.pem", dir);
    snprintf(key_rsa2, sizeof(key_rsa2), "%s/rsa2.pem", dir);
    snprintf(key_ec, sizeof(key_ec), "%s/ec.pem", dir);
    snprintf(key_ec2, sizeof(key_ec2), "%s/ec2.pem", dir);
    test_write_key(EVP_RSA_gen(3072), key_rsa);
    test_write_key(EVP_RSA_gen(3072), key_rsa2);
    test_write_key(EVP_EC_gen("P-256"), key_ec);
    test_write_key(EVP_EC_gen("P-256"), key_ec2);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A packed ESP32 app, padded for signing (secure_pad 1 or 2). */
static uint8_t *make_app(int secure_pad, const char *ver, size_t *len)
{
    static const char cfg[] = "CONFIG_IDF_TARGET=\"esp32\"\n";
    static const uint8_t payload[1000] = {1, 2, 3};
    ota_img_pack_opts_t o;
    ota_img_pack_opts_init(&o);
    o.payload = payload;
    o.payload_len = sizeof(payload);
    o.sdkconfig = cfg;
    o.sdkconfig_len = sizeof(cfg) - 1;
    o.project_ver = ver;
    o.has_build_time = true;
    o.secure_pad = secure_pad;
    uint8_t *img = NULL;
    ota_diag_t d = {{0}};
    assert_int_equal(ota_img_pack(ota_crypto_openssl(), &o, &img, len, &d), OTA_OK);
    return img;
}

static uint8_t *sign(const uint8_t *img, size_t len, const char *key, int version, size_t *out)
{
    uint8_t *s = NULL;
    ota_diag_t d = {{0}};
    int err = ota_img_sign(img, len, key, version, &s, out, &d);
    assert_int_equal(err, OTA_OK);
    return s;
}

typedef struct rig {
    uint8_t *mem;
    ota_flash_t f;
    ota_memflash_t m;
    ota_sig_trust_t trust;
    ota_img_verify_opts_t o;
    uint8_t v1_key[64];
} rig_t;

/* A flash with `running` in the running slot and the verifier set up for scheme. */
static void rig_init(rig_t *r, ota_sig_scheme_t scheme, const uint8_t *running, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->mem = malloc(FLASH_SIZE);
    assert_non_null(r->mem);
    memset(r->mem, 0xFF, FLASH_SIZE);
    memcpy(r->mem + RUNNING, running, len);
    ota_memflash_init(&r->f, &r->m, r->mem, FLASH_SIZE, false);
    r->trust = (ota_sig_trust_t){.scheme = scheme,
                                 .log = &sink,
                                 .flash = &r->f,
                                 .running_offset = RUNNING,
                                 .running_size = PART};
    r->o = (ota_img_verify_opts_t){.chip = ota_chip_by_name("esp32"),
                                   .chip_rev = 300,
                                   .hash = OTA_IMG_HASH_AUTO,
                                   .sig_scheme = scheme,
                                   .sig_check = true,
                                   .sig_trust = &r->trust,
                                   .log = collect_img};
}

/* Writes img into the new slot (erased first) and verifies it. */
static int rig_verify(rig_t *r, const uint8_t *img, size_t len, ota_img_meta_t *m)
{
    memset(r->mem + NEW, 0xFF, PART);
    memcpy(r->mem + NEW, img, len);
    log_text[0] = '\0';
    return ota_img_verify(&r->f, ota_crypto_openssl(), NEW, PART, &r->o, m, NULL);
}

static void round_trip(ota_sig_scheme_t scheme, const char *key, const char *other)
{
    int version = scheme == OTA_SIG_SCHEME_V1_ECDSA ? 1 : 2;
    size_t ulen = 0, slen = 0, flen = 0, rlen = 0;
    uint8_t *run_u = make_app(version == 1 ? 1 : 2, "1", &ulen);
    uint8_t *run = sign(run_u, ulen, key, version, &rlen);
    uint8_t *app_u = make_app(version == 1 ? 1 : 2, "2", &ulen);
    uint8_t *app = sign(app_u, ulen, key, version, &slen);
    uint8_t *foreign = sign(app_u, ulen, other, version, &flen);
    rig_t r;
    rig_init(&r, scheme, run, rlen);
    ota_diag_t d = {{0}};
    assert_int_equal(ota_img_sign_public_key_v1(key_ec, r.v1_key, &d), OTA_OK);
    r.trust.v1_key = r.v1_key;
    r.trust.v1_key_len = sizeof(r.v1_key);

    ota_img_meta_t m;
    assert_int_equal(rig_verify(&r, app, slen, &m), OTA_OK);
    assert_int_equal(m.image_len, slen);
    assert_non_null(strstr(log_text, "I esp_image: Verifying image signature...\n"));
    if (version == 2) {
        assert_non_null(strstr(log_text, "I secure_boot_v2: Take trusted digest key(s) from "
                                         "running app\n"));
        assert_non_null(strstr(log_text, "#0 app key digest == #0 trusted key digest\n"));
        assert_non_null(strstr(log_text, "I secure_boot_v2: Signature verified successfully!\n"));
    }
    assert_int_equal(rig_verify(&r, foreign, flen, &m), OTA_ERR_CORRUPT);
    assert_int_equal(m.fail, OTA_IMG_FAIL_SIGNATURE);
    assert_non_null(strstr(log_text, "E esp_image: Secure boot signature verification failed\n"));
    assert_non_null(strstr(log_text, "W esp_image: image valid, signature bad\n"));

    app[ulen - 1] ^= 0x01; /* the simple hash: the checksum holds, the signed digest does not */
    assert_int_equal(rig_verify(&r, app, slen, &m), OTA_ERR_CORRUPT);
    assert_int_equal(m.fail, OTA_IMG_FAIL_SIGNATURE);
    assert_non_null(strstr(log_text, "W esp_image: image corrupted on flash\n"));
    free(run_u), free(run), free(app_u), free(app), free(foreign), free(r.mem);
}

static void test_rsa_v2(void **state)
{
    (void)state;
    round_trip(OTA_SIG_SCHEME_V2_RSA, key_rsa, key_rsa2);
}

static void test_ecdsa_v2(void **state)
{
    (void)state;
    round_trip(OTA_SIG_SCHEME_V2_ECDSA, key_ec, key_ec2);
}

static void test_ecdsa_v1(void **state)
{
    (void)state;
    round_trip(OTA_SIG_SCHEME_V1_ECDSA, key_ec, key_ec2);
}

/* A V2 image signed for the other scheme is refused with ESP-IDF's line. */
static void test_scheme_mismatch(void **state)
{
    (void)state;
    size_t ulen = 0, rlen = 0, slen = 0;
    uint8_t *u = make_app(2, "1", &ulen);
    uint8_t *run = sign(u, ulen, key_rsa, 2, &rlen);
    uint8_t *ec = sign(u, ulen, key_ec, 2, &slen);
    rig_t r;
    rig_init(&r, OTA_SIG_SCHEME_V2_RSA, run, rlen);
    ota_img_meta_t m;
    assert_int_equal(rig_verify(&r, ec, slen, &m), OTA_ERR_CORRUPT);
    assert_non_null(strstr(log_text, "E secure_boot_v2: RSA signing scheme selected but signature "
                                     "block generated for ECDSA scheme\n"));
    free(u), free(run), free(ec), free(r.mem);
}

/* Lengths: a V2 app ends after its 4 KiB sector, a V1 app after its 68 bytes; a bootloader
 * carries no signature without secure boot, whatever the app scheme. */
static void test_lengths(void **state)
{
    (void)state;
    size_t ulen = 0;
    uint8_t *u = make_app(2, "1", &ulen);
    rig_t r;
    rig_init(&r, OTA_SIG_SCHEME_V2_RSA, u, ulen);
    r.o.sig_check = false;
    ota_img_meta_t m;
    /* an unsigned image in a partition with room only for itself: the sector does not fit */
    memcpy(r.mem + NEW, u, ulen);
    assert_int_equal(
        ota_img_verify(&r.f, ota_crypto_openssl(), NEW, (uint32_t)ulen, &r.o, &m, NULL),
        OTA_ERR_CORRUPT);
    assert_int_equal(m.fail, OTA_IMG_FAIL_LENGTH);
    assert_int_equal(ota_img_verify(&r.f, ota_crypto_openssl(), NEW, PART, &r.o, &m, NULL), OTA_OK);
    assert_int_equal(m.image_len, ulen + OTA_SIG_SECTOR_LEN);
    r.o.sig_scheme = OTA_SIG_SCHEME_V1_ECDSA;
    assert_int_equal(ota_img_verify(&r.f, ota_crypto_openssl(), NEW, PART, &r.o, &m, NULL), OTA_OK);
    assert_int_equal(m.image_len, ulen + OTA_SIG_V1_LEN);
    r.o.sig_scheme = OTA_SIG_SCHEME_V2_RSA;
    r.o.bootloader = true;
    r.o.hash = OTA_IMG_HASH_CHECK;
    assert_int_equal(ota_img_verify(&r.f, ota_crypto_openssl(), NEW, PART, &r.o, &m, NULL), OTA_OK);
    assert_int_equal(m.image_len, ulen);
    free(u), free(r.mem);
}

/* ---- real vectors and espsecure (../shared) ------------------------------------------------ */

/* The signature block of a real signed image checks against its contents; one bit does not. */
static void check_vector(const char *rel)
{
    const char *p = test_vector_path(rel);
    if (p == NULL) {
        skip();
    }
    size_t len = 0;
    uint8_t *img = test_read_file(p, &len);
    assert_non_null(img);
    ota_flash_t f;
    ota_memflash_t mf;
    ota_memflash_init(&f, &mf, img, (uint32_t)len, true);
    ota_img_info_t info;
    ota_diag_t d = {{0}};
    assert_int_equal(ota_img_parse(&f, ota_crypto_openssl(), 0, (uint32_t)len, &info, &d), OTA_OK);
    assert_true(info.sig_present);
    uint8_t digest[32];
    assert_int_equal(ota_hash(ota_crypto_openssl(), OTA_HASH_SHA256, img, info.sig_offset, digest),
                     OTA_OK);
    assert_memory_equal(digest, img + info.sig_offset + 4, 32);
    assert_int_equal(ota_sig_block_check(ota_crypto_openssl(), img + info.sig_offset, digest),
                     OTA_OK);
    img[100] ^= 0x01;
    assert_int_equal(ota_hash(ota_crypto_openssl(), OTA_HASH_SHA256, img, info.sig_offset, digest),
                     OTA_OK);
    assert_int_equal(ota_sig_block_check(ota_crypto_openssl(), img + info.sig_offset, digest),
                     OTA_ERR_CORRUPT);
    free(img);
}

static void test_vector_rsa(void **state)
{
    (void)state;
    check_vector("espressif__esptool/9f87460a29/test/secure_images/bootloader_signed_v2.bin");
}

static void test_vector_ecdsa(void **state)
{
    (void)state;
    check_vector(
        "espressif__esptool/84f0e954fc/test/secure_images/bootloader_signed_v2_ecdsa256.bin");
}

/* espsecure from ../shared/conformance, or NULL. */
static const char *espsecure(void)
{
    static char path[1024];
    const char *v = getenv("OTAKIT_VECTORS");
    if (v == NULL || access("/usr/bin/python3", X_OK) != 0) {
        return NULL;
    }
    snprintf(path, sizeof(path),
             "%s/../conformance/esp-idf/components/esptool_py/esptool/espsecure.py", v);
    return access(path, R_OK) == 0 ? path : NULL;
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return system(cmd);
}

static void cross_check(ota_sig_scheme_t scheme, const char *key)
{
    const char *es = espsecure();
    if (es == NULL) {
        skip();
    }
    int version = scheme == OTA_SIG_SCHEME_V1_ECDSA ? 1 : 2;
    size_t ulen = 0, slen = 0, elen = 0, rlen = 0;
    uint8_t *u = make_app(version == 1 ? 1 : 2, "1", &ulen);
    uint8_t *s = sign(u, ulen, key, version, &slen);
    char in[128], ours[128], theirs[128];
    snprintf(in, sizeof(in), "%s/u.bin", dir);
    snprintf(ours, sizeof(ours), "%s/ours.bin", dir);
    snprintf(theirs, sizeof(theirs), "%s/theirs.bin", dir);
    FILE *f = fopen(in, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(u, 1, ulen, f), ulen);
    fclose(f);
    f = fopen(ours, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(s, 1, slen, f), slen);
    fclose(f);
    assert_int_equal(run("/usr/bin/python3 %s verify_signature --version %d --keyfile %s %s "
                         ">/dev/null 2>&1",
                         es, version, key, ours),
                     0);
    int rc = run("/usr/bin/python3 %s sign_data --version %d --keyfile %s -o %s %s >%s/err 2>&1",
                 es, version, key, theirs, in, dir);
    /* espsecure signs V1 deterministically, which python3-cryptography 38 cannot do */
    if (rc != 0 && version == 1 && run("grep -q deterministic_signing %s/err", dir) == 0) {
        free(u), free(s);
        skip();
    }
    assert_int_equal(rc, 0);
    uint8_t *t = test_read_file(theirs, &elen);
    assert_non_null(t);
    assert_int_equal(elen, slen);
    rig_t r;
    uint8_t *run_img = sign(u, ulen, key, version, &rlen);
    rig_init(&r, scheme, run_img, rlen);
    ota_diag_t d = {{0}};
    if (version == 1) {
        assert_int_equal(ota_img_sign_public_key_v1(key, r.v1_key, &d), OTA_OK);
        r.trust.v1_key = r.v1_key;
        r.trust.v1_key_len = sizeof(r.v1_key);
    }
    ota_img_meta_t m;
    assert_int_equal(rig_verify(&r, t, elen, &m), OTA_OK);
    free(u), free(s), free(t), free(run_img), free(r.mem);
}

static void test_espsecure_rsa(void **state)
{
    (void)state;
    cross_check(OTA_SIG_SCHEME_V2_RSA, key_rsa);
}

static void test_espsecure_ecdsa_v2(void **state)
{
    (void)state;
    cross_check(OTA_SIG_SCHEME_V2_ECDSA, key_ec);
}

static void test_espsecure_ecdsa_v1(void **state)
{
    (void)state;
    cross_check(OTA_SIG_SCHEME_V1_ECDSA, key_ec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rsa_v2),
        cmocka_unit_test(test_ecdsa_v2),
        cmocka_unit_test(test_ecdsa_v1),
        cmocka_unit_test(test_scheme_mismatch),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_vector_rsa),
        cmocka_unit_test(test_vector_ecdsa),
        cmocka_unit_test(test_espsecure_rsa),
        cmocka_unit_test(test_espsecure_ecdsa_v2),
        cmocka_unit_test(test_espsecure_ecdsa_v1),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
