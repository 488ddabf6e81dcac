/* Self-signed certificates: subject, subjectAltName (IP or DNS), key pairing, validity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ota/ota_file.h"
#include "ota/ota_x509.h"

static char dir[256];
static char cert_path[300];
static char key_path[300];

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/otakit-x509-XXXXXX", tmp != NULL ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(cert_path, sizeof(cert_path), "%s/ca_cert.pem", dir);
    snprintf(key_path, sizeof(key_path), "%s/ca_key.pem", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(cert_path);
    unlink(key_path);
    return rmdir(dir);
}

static X509 *load_cert(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    X509 *x = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_non_null(x);
    return x;
}

static EVP_PKEY *load_key(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    EVP_PKEY *k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_non_null(k);
    return k;
}

static void assert_cn(X509 *x, const char *want)
{
    char cn[128];
    assert_true(
        X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn)) > 0);
    assert_string_equal(cn, want);
    assert_true(X509_NAME_get_text_by_NID(X509_get_issuer_name(x), NID_commonName, cn, sizeof(cn)) >
                0);
    assert_string_equal(cn, want);
}

/* The single SAN entry: its type and, for IP entries, the address bytes. */
static int san_entry(X509 *x, unsigned char *value, int *len)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    assert_non_null(names);
    assert_int_equal(sk_GENERAL_NAME_num(names), 1);
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, 0);
    int type = g->type;
    const ASN1_STRING *s = type == GEN_IPADD ? g->d.iPAddress : g->d.dNSName;
    *len = ASN1_STRING_length(s);
    memcpy(value, ASN1_STRING_get0_data(s), (size_t)*len);
    value[*len] = 0;
    GENERAL_NAMES_free(names);
    return type;
}

static void assert_common_properties(X509 *x, EVP_PKEY *key)
{
    assert_int_equal(X509_get_version(x), X509_VERSION_3);
    assert_int_equal(X509_check_private_key(x, key), 1);
    assert_int_equal(X509_verify(x, key), 1); /* self-signed by this key */
    assert_int_equal(EVP_PKEY_get_base_id(key), EVP_PKEY_RSA);
    assert_int_equal(EVP_PKEY_get_bits(key), 2048);
    assert_int_equal(X509_get_signature_nid(x), NID_sha256WithRSAEncryption);
    int days = -1;
    int secs = -1;
    assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)),
                     1);
    assert_int_equal(days, 365);
    assert_int_equal(secs, 0);
    /* Starts now (within a minute of the test's clock). */
    time_t now = time(NULL);
    assert_int_equal(X509_cmp_time(X509_get0_notBefore(x), &(time_t){now + 60}), -1);
    assert_int_equal(X509_cmp_time(X509_get0_notBefore(x), &(time_t){now - 60}), 1);
    /* CA:TRUE so that trusting the certificate as a root works, as with openssl req -x509. */
    assert_int_equal(X509_check_ca(x), 1);
    const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
    assert_true(ASN1_STRING_length(serial) >= 16);
    assert_int_equal(ASN1_STRING_type(serial), V_ASN1_INTEGER); /* positive */
}

static void test_ipv4_host(void **state)
{
    (void)state;
    ota_diag_t diag = {""};
    assert_int_equal(ota_x509_self_signed("127.0.0.1", cert_path, key_path, 0, &diag), OTA_OK);
    X509 *x = load_cert(cert_path);
    EVP_PKEY *key = load_key(key_path);
    assert_cn(x, "127.0.0.1");
    unsigned char v[64];
    int len = 0;
    assert_int_equal(san_entry(x, v, &len), GEN_IPADD);
    assert_int_equal(len, 4);
    assert_memory_equal(v, "\x7f\x00\x00\x01", 4);
    assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(x, "127.0.0.2", 0), 0);
    assert_common_properties(x, key);

    struct stat st;
    assert_int_equal(stat(key_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(cert_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    X509_free(x);
    EVP_PKEY_free(key);

    assert_int_equal(ota_x509_matches("127.0.0.1", cert_path, key_path, &diag), 1);
    assert_int_equal(ota_x509_matches("10.0.0.1", cert_path, key_path, &diag), 0);
    assert_non_null(strstr(diag.msg, "CN"));
    assert_int_equal(ota_x509_matches("esp.local", cert_path, key_path, &diag), 0);
}

static void test_ipv6_host(void **state)
{
    (void)state;
    assert_int_equal(ota_x509_self_signed("::1", cert_path, key_path, 0, NULL), OTA_OK);
    X509 *x = load_cert(cert_path);
    unsigned char v[64];
    int len = 0;
    assert_int_equal(san_entry(x, v, &len), GEN_IPADD);
    assert_int_equal(len, 16);
    unsigned char want[16];
    inet_pton(AF_INET6, "::1", want);
    assert_memory_equal(v, want, 16);
    assert_cn(x, "::1");
    X509_free(x);
}

static void test_dns_host(void **state)
{
    (void)state;
    assert_int_equal(ota_x509_self_signed("ota.example.com", cert_path, key_path, 30, NULL),
                     OTA_OK);
    X509 *x = load_cert(cert_path);
    EVP_PKEY *key = load_key(key_path);
    assert_cn(x, "ota.example.com");
    unsigned char v[64];
    int len = 0;
    assert_int_equal(san_entry(x, v, &len), GEN_DNS);
    assert_string_equal((char *)v, "ota.example.com");
    assert_int_equal(X509_check_host(x, "ota.example.com", 0, 0, NULL), 1);
    assert_int_equal(X509_check_host(x, "other.example.com", 0, 0, NULL), 0);
    assert_int_equal(X509_check_private_key(x, key), 1);
    int days = -1;
    int secs = -1;
    ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x));
    assert_int_equal(days, 30);
    X509_free(x);
    EVP_PKEY_free(key);
    assert_int_equal(ota_x509_matches("OTA.Example.com", cert_path, key_path, NULL), 0); /* CN */
    assert_int_equal(ota_x509_matches("ota.example.com", cert_path, key_path, NULL), 1);
}

static void test_mismatched_key_is_not_reused(void **state)
{
    (void)state;
    char other_cert[320];
    char other_key[320];
    snprintf(other_cert, sizeof(other_cert), "%s/other_cert.pem", dir);
    snprintf(other_key, sizeof(other_key), "%s/other_key.pem", dir);
    assert_int_equal(ota_x509_self_signed("127.0.0.1", cert_path, key_path, 0, NULL), OTA_OK);
    assert_int_equal(ota_x509_self_signed("127.0.0.1", other_cert, other_key, 0, NULL), OTA_OK);
    ota_diag_t diag = {""};
    assert_int_equal(ota_x509_matches("127.0.0.1", cert_path, other_key, &diag), 0);
    assert_non_null(strstr(diag.msg, "does not match"));
    /* Fresh serial numbers. */
    X509 *a = load_cert(cert_path);
    X509 *b = load_cert(other_cert);
    assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(a), X509_get0_serialNumber(b)), 0);
    X509_free(a);
    X509_free(b);
    unlink(other_cert);
    unlink(other_key);
}

static void test_bad_input(void **state)
{
    (void)state;
    char missing[320];
    snprintf(missing, sizeof(missing), "%s/missing.pem", dir);
    ota_diag_t diag = {""};
    assert_int_equal(ota_x509_self_signed("bad,host", missing, missing, 0, &diag),
                     OTA_ERR_INVALID_ARG);
    assert_int_equal(access(missing, F_OK), -1); /* nothing written */
    assert_int_equal(ota_x509_self_signed("", cert_path, key_path, 0, NULL), OTA_ERR_INVALID_ARG);
    char longname[80];
    memset(longname, 'a', 65);
    longname[65] = 0;
    assert_int_equal(ota_x509_self_signed(longname, cert_path, key_path, 0, NULL),
                     OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_x509_self_signed("h", NULL, key_path, 0, NULL), OTA_ERR_INVALID_ARG);
    assert_int_equal(ota_x509_matches("127.0.0.1", missing, key_path, &diag), OTA_ERR_NOT_FOUND);
    /* A file that is not PEM. */
    FILE *fp = fopen(missing, "w");
    fputs("not a certificate\n", fp);
    fclose(fp);
    assert_int_equal(ota_x509_matches("127.0.0.1", missing, key_path, &diag), OTA_ERR_CORRUPT);
    unlink(missing);
    char nodir[320];
    snprintf(nodir, sizeof(nodir), "%s/no/such/dir/c.pem", dir);
    assert_int_equal(ota_x509_self_signed("127.0.0.1", nodir, nodir, 0, &diag), OTA_ERR_IO);
    assert_non_null(strstr(diag.msg, nodir));
}

/* The whole-file writer the certificates (and the CLI's outputs) go through. */
static void test_file_write(void **state)
{
    (void)state;
    char path[320];
    snprintf(path, sizeof(path), "%s/out.bin", dir);
    ota_diag_t diag = {""};
    assert_int_equal(ota_file_write(path, "first", 5, 0600, &diag), OTA_OK);
    assert_int_equal(ota_file_write(path, "second", 6, 0644, &diag), OTA_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(st.st_size, 6);
    char got[8] = "";
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(got, 1, sizeof(got), fp), 6);
    fclose(fp);
    assert_memory_equal(got, "second", 6);
    unlink(path);
    /* Nothing is left behind when the directory does not exist. */
    snprintf(path, sizeof(path), "%s/no/such/dir/out.bin", dir);
    assert_int_equal(ota_file_write(path, "x", 1, 0644, &diag), OTA_ERR_IO);
    assert_non_null(strstr(diag.msg, "cannot create"));
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        assert_null(strstr(e->d_name, ".tmp")); /* no temporary file stays */
    }
    closedir(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_host), cmocka_unit_test(test_ipv6_host),
        cmocka_unit_test(test_dns_host),  cmocka_unit_test(test_mismatched_key_is_not_reused),
        cmocka_unit_test(test_bad_input), cmocka_unit_test(test_file_write),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
