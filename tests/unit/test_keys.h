/* Signing keys for the unit tests that sign images. */
#ifndef OTAKIT_TEST_KEYS_H
#define OTAKIT_TEST_KEYS_H

#include <openssl/evp.h>
#include <openssl/pem.h>

/* Writes k (then freed) to path as traditional PEM, the form espsecure's V1 signing reads. */
static inline void test_write_key(EVP_PKEY *k, const char *path)
{
    BIO *b = BIO_new_file(path, "w");
    assert_non_null(b);
    assert_int_equal(PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL, NULL), 1);
    BIO_free(b);
    EVP_PKEY_free(k);
}

#endif
