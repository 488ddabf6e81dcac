/* otadata decoding and selection on real otadata images (the shared vectors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ota/ota_err.h"
#include "ota/ota_otadata.h"
#include "test_util.h"

static void test_vectors(void **state)
{
    (void)state;
    const char *p12 = test_vector_path("espressif__esptool/c233552aaf/0xe000_boot_app0.bin");
    const char *p65 = NULL;
    assert_non_null(p12);
    size_t len = 0;
    ota_otadata_entry_t e[2];
    /* Row 12: copy 0 seq 1, copy 1 seq 0 with crc 0xFFFFFFFF; both valid; copy 0 active;
     * one OTA partition -> ota_0. */
    uint8_t *img = test_read_file(p12, &len);
    assert_non_null(img);
    assert_int_equal(len, 8192);
    assert_int_equal(ota_otadata_decode_image(img, len, e), OTA_OK);
    assert_int_equal(e[0].seq, 1);
    assert_int_equal(e[1].seq, 0);
    assert_int_equal(e[0].crc, 0x4743989Au);
    assert_int_equal(e[1].crc, 0xFFFFFFFFu);
    assert_string_equal(ota_otadata_state_name(e[0].state), "UNDEFINED");
    assert_true(ota_otadata_select_valid(&e[0]));
    assert_true(ota_otadata_select_valid(&e[1]));
    assert_int_equal(ota_otadata_active(e), 0);
    assert_int_equal(ota_otadata_slot_of_seq(e[0].seq, 1), 0);
    free(img);

    /* Row 65: copy 0 seq 1, copy 1 erased (crc_ok NO); two OTA partitions -> ota_0. */
    p65 = test_vector_path("intechstudio__knot/fe3a5181a9/Firmware/bootloader/"
                           "otadata_boot_from_ota0.bin");
    assert_non_null(p65);
    img = test_read_file(p65, &len);
    assert_non_null(img);
    assert_int_equal(ota_otadata_decode_image(img, len, e), OTA_OK);
    assert_int_equal(e[1].seq, 0xFFFFFFFFu);
    assert_false(ota_otadata_crc_ok(&e[1]));
    assert_int_equal(ota_otadata_seq_crc(e[1].seq), 0x2144DF1Cu);
    assert_int_equal(ota_otadata_active(e), 0);
    assert_int_equal(ota_otadata_slot_of_seq(e[0].seq, 2), 0);
    free(img);
}

int main(void)
{
    if (!test_vectors_present()) {
        fprintf(stderr, "the shared vectors are absent: skipped\n");
        return TEST_SKIP_STATUS;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
