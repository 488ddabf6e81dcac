/*
 * Certificate bundle: the system CA store (loaded by libcurl) plus certificates added at run
 * time. The added certificates are parsed once into X509 objects and put into each connection's
 * X509_STORE from the HTTP client's SSL_CTX callback.
 */
#include "esp_crt_bundle.h"
#include "esp_crt_bundle_priv.h"
#include "esp_log.h"

#include <pthread.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static const char *TAG = "esp-x509-crt-bundle";

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static STACK_OF(X509) * added; /* guarded by lock */

esp_err_t esp_crt_bundle_attach(void *conf)
{
    esp_crt_bundle_conf_t *c = conf;
    if (c != NULL && c->magic == ESP_CRT_BUNDLE_CONF_MAGIC) {
        c->use_bundle = true;
    }
    return ESP_OK;
}

void esp_crt_bundle_detach(void *conf)
{
    esp_crt_bundle_conf_t *c = conf;
    if (c != NULL && c->magic == ESP_CRT_BUNDLE_CONF_MAGIC) {
        c->use_bundle = false;
    }
}

esp_err_t esp_crt_bundle_add_pem(const char *pem)
{
    if (pem == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    BIO *bio = BIO_new_mem_buf(pem, -1);
    if (bio == NULL) {
        return ESP_ERR_NO_MEM;
    }
    STACK_OF(X509) *parsed = sk_X509_new_null();
    if (parsed == NULL) {
        BIO_free(bio);
        return ESP_ERR_NO_MEM;
    }
    X509 *crt;
    while ((crt = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(parsed, crt)) {
            X509_free(crt);
            break;
        }
    }
    ERR_clear_error(); /* the end of the text shows up as a "no start line" error */
    BIO_free(bio);
    int n = sk_X509_num(parsed);
    if (n == 0) {
        sk_X509_free(parsed);
        ESP_LOGE(TAG, "No certificate found in the PEM text");
        return ESP_ERR_INVALID_ARG;
    }
    esp_err_t err = ESP_OK;
    pthread_mutex_lock(&lock);
    if (added == NULL) {
        added = sk_X509_new_null();
    }
    for (int i = 0; i < n; i++) {
        crt = sk_X509_value(parsed, i);
        if (added == NULL || !sk_X509_push(added, crt)) {
            X509_free(crt);
            err = ESP_ERR_NO_MEM;
        }
    }
    pthread_mutex_unlock(&lock);
    sk_X509_free(parsed);
    return err;
}

void esp_crt_bundle_clear_pem(void)
{
    pthread_mutex_lock(&lock);
    sk_X509_pop_free(added, X509_free);
    added = NULL;
    pthread_mutex_unlock(&lock);
}

int esp_crt_bundle_add_to_store(X509_STORE *store)
{
    int n = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < sk_X509_num(added); i++) {
        /* A certificate already in the store (e.g. a system CA) is not an error. */
        if (X509_STORE_add_cert(store, sk_X509_value(added, i))) {
            n++;
        }
    }
    pthread_mutex_unlock(&lock);
    ERR_clear_error();
    return n;
}
